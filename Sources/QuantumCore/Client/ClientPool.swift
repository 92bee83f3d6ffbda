/// Idle keep-alive connections of one `HTTPClient` on one event loop, per server address.
/// Loop-confined: requests take and return connections without a lock.
final class ClientPool {
    private var idle: [String: [HTTPClientConnection]] = [:]
    private let maxIdlePerHost: Int
    /// The `HTTPClient` this pool belongs to (its unique number).
    let owner: Int

    init(maxIdlePerHost: Int, owner: Int) {
        self.maxIdlePerHost = maxIdlePerHost
        self.owner = owner
    }

    /// The most recently used idle connection to `key`, if any.
    func checkOut(_ key: String) -> HTTPClientConnection? {
        while let connection = idle[key]?.popLast() {
            if !connection.isClosed { return connection }
        }
        return nil
    }

    func checkIn(_ connection: HTTPClientConnection) {
        var list = idle[connection.key, default: []]
        guard list.count < maxIdlePerHost else { connection.close(); return }
        list.append(connection)
        idle[connection.key] = list
    }

    func remove(_ connection: HTTPClientConnection) {
        idle[connection.key]?.removeAll { $0 === connection }
    }

    /// Idle connections to `key` (tests and the admin view).
    func idleCount(_ key: String) -> Int { idle[key]?.count ?? 0 }

    func closeAll() {
        let all = idle.values.flatMap { $0 }
        idle = [:]
        for c in all { c.close() }
    }
}
