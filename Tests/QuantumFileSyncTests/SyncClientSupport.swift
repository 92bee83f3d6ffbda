import Foundation
import Glibc
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// A `SyncClient` on its own temporary folder, driven through the library API.
final class TestSyncClient: @unchecked Sendable {
    let id: String
    let dir: String
    let client: SyncClient
    private var task: Task<Void, Never>?
    let logLines = LogLines()

    init(_ server: SyncServer, id: String, dir: String? = nil, prefix: String = "") throws {
        self.id = id
        self.dir = dir ?? NSTemporaryDirectory() + "quantum-sync-client-\(id)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.dir, withIntermediateDirectories: true)
        var options = SyncClient.Options(server: "http://127.0.0.1:\(server.port)\(prefix)", localPath: self.dir, clientID: id)
        options.pingInterval = .seconds(2)
        options.firstBackoff = .milliseconds(100)
        options.maxBackoff = .milliseconds(500)
        let lines = logLines
        options.log = { lines.append($0) }
        client = try SyncClient(options)
    }

    /// Starts realtime mode and waits until the server acknowledged the subscription.
    func startRealtime() async throws {
        let client = self.client
        let before = await client.subscriptions
        task = Task { await client.runRealtime() }
        try await eventually("\(id) subscribed") { await client.subscriptions > before }
    }

    func stop() async {
        await client.stop()
        await task?.value
        task = nil
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ relative: String) -> String { dir + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path(relative))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path(relative)))).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    func isDirectory(_ relative: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(relative), isDirectory: &d) && d.boolValue
    }

    /// Relative paths of every file and directory (the client's state directory excluded).
    func listing() -> [String] {
        let all = (try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []
        return all.filter { !$0.hasPrefix(LocalTree.stateDirectoryName) }.sorted()
    }
}

/// Log lines a client wrote (for failure messages and checks).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// Polls `condition` until it holds or `seconds` pass (eventual consistency: the assertion is
/// the condition, the deadline only bounds the wait).
func eventually(_ what: String, timeout seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(nanoseconds: 25_000_000)
    }
    if try await condition() { return }
    XCTFail("not within \(seconds)s: \(what)", file: file, line: line)
    throw TimedOut(what: what)
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for: \(what)" }
}

extension SyncServer {
    /// Every logged operation (for echo checks): `(path, source)` in order.
    func operations() throws -> [(kind: String, path: String, source: String?)] {
        let doc = try json(request("GET", "/api/list?since=0"))
        return doc["operations"]?.array.compactMap { op -> (String, String, String?)? in
            guard case .object(let pairs)? = op["operation"], let (kind, body) = pairs.first else { return nil }
            let path = body["metadata"]?["path"]?.string ?? body["path"]?.string ?? body["to"]?.string ?? ""
            return (kind, path, op["source_client"]?.string)
        } ?? []
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + relative) }

    func listing() -> [String] {
        let all = (try? FileManager.default.subpathsOfDirectory(atPath: root)) ?? []
        return all.filter { !$0.hasPrefix(SyncPath.stateDirectory) }.sorted()
    }
}
