import Glibc
import QuantumCore
import QuantumFileSync
import Synchronization

/// `quantum sync`: runs a `SyncClient` for one folder — a full compare (`--initial-sync`), then
/// realtime following (`--realtime`) until SIGINT/SIGTERM. With neither flag it does the
/// compare once. Without `--client-id` the folder's stored id is used (`ClientIdentity`).
struct SyncCommand {
    let name: String
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void

    func run(_ opts: [String: String]) async throws -> Int32 {
        guard let server = opts["--server"] else { throw QuantumCommand.UsageError(message: "sync needs --server URL") }
        guard let path = opts["--local-path"] else { throw QuantumCommand.UsageError(message: "sync needs --local-path DIR") }
        do { _ = try SyncEndpoint(server) } catch { throw QuantumCommand.UsageError(message: "--server: \(error)") }
        if let id = opts["--client-id"], id.isEmpty || id.utf8.count > 256 {
            throw QuantumCommand.UsageError(message: "--client-id must be 1 to 256 bytes")
        }
        let realtime = opts["--realtime"] != nil
        let initial = opts["--initial-sync"] != nil || !realtime
        guard FileIO.isDirectory(path) else { throw QuantumCommand.FileError(description: "\(path) is not a directory") }
        let id: String
        do { id = try opts["--client-id"] ?? ClientIdentity.stored(in: path) } catch { throw QuantumCommand.FileError(description: "\(error)") }
        var options = SyncClient.Options(server: server, localPath: path, clientID: id, token: opts["--token"])
        if let ca = opts["--ca"] { options.tls.trustRootsFile = ca }
        let quiet = opts["--quiet"] != nil, json = opts["--json"] != nil
        if quiet && json { throw QuantumCommand.UsageError(message: "--quiet and --json cannot be used together") }
        options.progress = quiet || json ? .silent : SyncProgress.standardOutput()
        options.log = err
        // Lines for changes once realtime starts (the initial compare shows its progress instead);
        // JSON objects for every change.
        let live = Atomic<Bool>(false)
        let out = self.out
        if json {
            options.report = { out($0.json.serialized) }
        } else if !quiet {
            options.report = { event in if live.load(ordering: .relaxed) { out(event.line) } }
        }
        let client: SyncClient
        do { client = try SyncClient(options) } catch { throw QuantumCommand.FileError(description: "\(error)") }
        if initial {
            let summary = try await client.synchronize()
            if !realtime { return summary.failed == 0 ? 0 : 1 }
        }
        let err = self.err
        Signals.forward { signal in
            guard signal != SIGUSR1 else { return }
            err("\(name): sync stopping")
            Task { await client.stop() }
        }
        err("\(name): syncing \(path) with \(server) as \(options.clientID) (realtime)")
        live.store(true, ordering: .relaxed)
        await client.runRealtime()
        return 0
    }
}
