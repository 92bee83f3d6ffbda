import Glibc
import QuantumCore

/// The `quantum sync` client: keeps a local folder and a `file_sync` server in step.
///
/// - `synchronize()` is the full compare (initial sync, and recovery after the server's
///   history no longer reaches back): list both sides, plan with `SyncPlanner`, carry it out.
/// - `runRealtime()` subscribes to the server's operations and watches the folder, until `stop()`.
///
/// An actor, and in realtime mode one task feeds it events in order, so a server operation
/// and a local change are never applied at the same time. (Do not call `synchronize()` while
/// `runRealtime()` runs: actor methods interleave at their awaits; realtime mode runs its own
/// full compares when it needs them.) What it last synced lives in
/// `ClientState` (saved after every step), so a restarted client tells local changes from
/// server changes and catches up with `since`.
public actor SyncClient {
    public struct Options: Sendable {
        /// `http://host:port[/prefix]`.
        public var server: String
        public var localPath: String
        /// Names this client on the server (`X-Client-Id`, `Subscribe.client_id`) and in conflict copies.
        public var clientID: String
        public var token: String?
        /// How an https server is checked (by default the system's trust roots).
        public var tls = TLSClientConfiguration()
        /// How often a `{"type":"Ping"}` goes out; three intervals without any message drop the connection.
        public var pingInterval: Duration = .seconds(15)
        /// Reconnect delays double from `firstBackoff` up to `maxBackoff`.
        public var firstBackoff: Duration = .milliseconds(250)
        public var maxBackoff: Duration = .seconds(15)
        public var progress: SyncProgress = .silent
        /// One line per noteworthy event (conflicts, errors, reconnects).
        public var log: @Sendable (String) -> Void = { _ in }
        /// Every change made to either side, as it is made.
        public var report: @Sendable (SyncEvent) -> Void = { _ in }

        public init(server: String, localPath: String, clientID: String, token: String? = nil) {
            self.server = server
            self.localPath = localPath
            self.clientID = clientID
            self.token = token
        }
    }

    /// What a full compare did.
    public struct Summary: Sendable, Equatable {
        public var downloaded = 0, uploaded = 0, deletedLocally = 0, deletedRemotely = 0, directories = 0, conflicts = 0, failed = 0
        public var changes: Int { downloaded + uploaded + deletedLocally + deletedRemotely + directories + conflicts }
    }

    public nonisolated let options: Options
    public nonisolated let remote: SyncRemote
    public nonisolated let tree: LocalTree
    let statePath: String
    public internal(set) var state: ClientState
    /// False until a state file exists or a full compare ran: without it the client cannot
    /// tell a local delete from a file it never had, so realtime mode starts with a full compare.
    var hasBase: Bool
    /// Set when a step failed for a reason a full compare can repair (a lost connection, an
    /// operation that did not fit what is on disk); done at the next chance.
    var needsFullCompare = false
    var conflictsSeen = 0
    /// The seq of this client's latest upload of a path not yet caught up with: an older
    /// operation on that path (a delete our change won over) must not undo it.
    var uploadedAt: [String: Int] = [:]
    // Realtime mode.
    var events: AsyncStream<RealtimeConnection.Event>.Continuation?
    var connection: RealtimeConnection?
    /// Subscriptions acknowledged by the server so far (tests wait for the first).
    public internal(set) var subscriptions = 0
    public internal(set) var isSubscribed = false

    public init(_ options: Options) throws {
        self.options = options
        remote = SyncRemote(endpoint: try SyncEndpoint(options.server), clientID: options.clientID, token: options.token, tls: options.tls)
        guard FileIO.isDirectory(options.localPath) else { throw SyncClientError.local("\(options.localPath) is not a directory") }
        tree = try LocalTree(root: options.localPath)
        statePath = tree.stateDirectory + "/state.json"
        let loaded = try ClientState.load(statePath)
        state = loaded ?? ClientState()
        hasBase = loaded != nil
    }

    /// Conflicts this client resolved (by keeping its version under a conflict name).
    public var conflicts: Int { conflictsSeen }

    func report(_ direction: SyncEvent.Direction, _ action: SyncEvent.Action, _ path: String, to: String? = nil,
                isDirectory: Bool = false, size: Int? = nil) {
        options.report(SyncEvent(direction, action, path, to: to, isDirectory: isDirectory, size: size))
    }

    func saveState() {
        do { try state.save(statePath) } catch { options.log("sync: \(error)") }
    }

    // MARK: - Full compare

    /// Compares the whole folder with the server and makes them equal: downloads what is new or
    /// changed there, uploads what is new or changed here, applies deletes the other side made
    /// since the last sync, and keeps both versions of files changed on both sides.
    @discardableResult
    public func synchronize() async throws -> Summary {
        let (seq, files) = try await remote.list()
        var remoteFiles: [String: FileMetadata] = [:]
        for f in files where tree.isSyncable(f.path) { remoteFiles[f.path] = f }
        let local = tree.scan(cache: state.files)
        let plan = SyncPlanner.plan(local: local, remote: remoteFiles, base: state.files)
        let progress = options.progress
        progress.begin(steps: plan.filter(\.movesSomething).count)
        var summary = Summary()
        var setAsideDirectories: [String] = []  // moved away whole: what the plan says about their contents no longer applies
        for action in plan {
            if setAsideDirectories.contains(where: { action.path.hasPrefix($0 + "/") }) { continue }
            if case .typeClash(let p) = action, local[p]?.isDirectory == true { setAsideDirectories.append(p) }
            do {
                try await execute(action, local: local, summary: &summary)
            } catch let e as SyncClientError where e.status != nil || isLocal(e) {
                // The server refused this one path (or the disk did): report it, go on with the rest.
                summary.failed += 1
                options.log("sync: \(action.path): \(e)")
            }
            if action.movesSomething { progress.step(describe(action), bytes: local[action.path]?.size ?? remoteFiles[action.path]?.size ?? 0) }
        }
        // Everything up to `seq` is reflected in the list; later operations come with `since`.
        // (Not `max` with the old value: after the server lost its history, that one is too high.)
        state.lastSeq = seq
        hasBase = true
        saveState()
        progress.finish("sync: \(summary.changes) change\(summary.changes == 1 ? "" : "s") (\(summary.downloaded) down, \(summary.uploaded) up, "
                        + "\(summary.deletedLocally + summary.deletedRemotely) deleted, \(summary.conflicts) conflicts\(summary.failed > 0 ? ", \(summary.failed) failed" : ""))")
        return summary
    }

    private func isLocal(_ e: SyncClientError) -> Bool { if case .local = e { true } else { false } }

    private func execute(_ action: SyncAction, local: [String: LocalEntry], summary: inout Summary) async throws {
        switch action {
        case .download(let p):
            do { try await fetch(p); summary.downloaded += 1 } catch let e as SyncClientError where e.status == 404 {
                state.files[p] = nil  // deleted since the list: its Delete operation follows
            }
        case .upload(let p, let ifMatch):
            do { try await push(p, ifMatch: ifMatch); summary.uploaded += 1 } catch let e as SyncClientError where e.status == 412 {
                try await keepBoth(p)
                summary.conflicts += 1
            }
        case .conflict(let p):
            try await keepBoth(p)
            summary.conflicts += 1
        case .deleteLocal(let p):
            let isDirectory = state.files[p]?.isDirectory ?? false
            try tree.remove(p)
            state.forget(p)
            summary.deletedLocally += 1
            report(.down, .deleted, p, isDirectory: isDirectory)
        case .deleteRemote(let p, let ifMatch):
            do {
                try await remote.delete(p, ifMatch: ifMatch)
                report(.up, .deleted, p, isDirectory: state.files[p]?.isDirectory ?? false)
                state.forget(p)
                summary.deletedRemotely += 1
            } catch let e as SyncClientError where e.status == 404 {
                state.forget(p)
            } catch let e as SyncClientError where e.status == 412 {
                state.forget(p)  // changed on the server meanwhile: the change wins over our delete
                try await fetch(p)
                summary.downloaded += 1
            }
        case .makeLocalDirectory(let p):
            try tree.makeDirectory(p)
            if let e = tree.entry(p) { state.files[p] = e }
            summary.directories += 1
            report(.down, .created, p, isDirectory: true)
        case .makeRemoteDirectory(let p):
            try await remote.makeDirectory(p)
            if let e = local[p] ?? tree.entry(p) { state.files[p] = e }
            summary.directories += 1
            report(.up, .created, p, isDirectory: true)
        case .remember(let p):
            if let e = local[p] { state.files[p] = e }
        case .forget(let p):
            state.files[p] = nil
        case .typeClash(let p):
            try await resolveTypeClash(p, serverHasDirectory: local[p]?.isDirectory != true)
            summary.conflicts += 1
        }
    }

    private func describe(_ action: SyncAction) -> String {
        switch action {
        case .download(let p): "download \(p)"
        case .upload(let p, _): "upload \(p)"
        case .conflict(let p): "conflict \(p) (both versions kept)"
        case .deleteLocal(let p): "delete \(p) (deleted on the server)"
        case .deleteRemote(let p, _): "delete \(p) on the server"
        case .makeLocalDirectory(let p): "mkdir \(p)"
        case .makeRemoteDirectory(let p): "mkdir \(p) on the server"
        case .remember(let p), .forget(let p): p
        case .typeClash(let p): "conflict \(p) (a file on one side, a directory on the other; both kept)"
        }
    }
}

extension SyncAction {
    /// Whether carrying it out changes either side (what progress counts).
    var movesSomething: Bool {
        switch self {
        case .remember, .forget: false
        default: true
        }
    }
}
