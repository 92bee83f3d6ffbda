import QuantumCore

/// The running side of one `file_sync` handler: its store, log and hub, and the one way every
/// change goes (REST, WebSocket or disk) — applied, logged with the next seq, broadcast.
public final class SyncService: Sendable {
    let root: SyncRoot
    public var store: SyncStore { root.store }
    public var log: OperationLog { root.log }
    public var hub: SyncHub { root.hub }
    public let uploadsEnabled: Bool
    public let maxUploadSize: Int?
    /// `rate_limit`, per client address (nil: none).
    let limiter: SyncRateLimiter?

    init(root: SyncRoot, uploadsEnabled: Bool, maxUploadSize: Int?, limiter: SyncRateLimiter? = nil) {
        self.root = root
        self.uploadsEnabled = uploadsEnabled
        self.maxUploadSize = maxUploadSize
        self.limiter = limiter
    }

    /// Logs and broadcasts operations that already happened.
    @discardableResult
    func record(_ ops: [SyncOperation], source: String?) -> [LoggedOperation] {
        ops.map { op in
            let logged = log.append(op, source: source)
            hub.broadcast(logged)
            return logged
        }
    }

    func requireUploads() throws {
        guard uploadsEnabled else { throw HTTPError(403, "changes are disabled (enable_upload is false)") }
    }

    /// Runs a blocking store operation off the event loop.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingPool.shared.run(body)
    }

    // Changes the REST API and the WebSocket share.

    func delete(_ path: SyncPath, ifMatch: String?, source: String?) async throws -> LoggedOperation {
        try requireUploads()
        let op = try await blocking { try self.store.delete(path, ifMatch: ifMatch) }
        return record([op], source: source)[0]
    }

    func makeDirectory(_ path: SyncPath, source: String?) async throws -> LoggedOperation? {
        try requireUploads()
        guard let op = try await blocking({ try self.store.makeDirectory(path) }) else { return nil }
        return record([op], source: source)[0]
    }

    func move(from: SyncPath, to: SyncPath, source: String?) async throws -> LoggedOperation {
        try requireUploads()
        let op = try await blocking { try self.store.move(from: from, to: to) }
        return record([op], source: source)[0]
    }
}
