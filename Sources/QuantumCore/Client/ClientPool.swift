/// Idle keep-alive connections of one `HTTPClient` on one event loop, per server address.
/// Loop-confined: requests take and return connections without a lock.
final class ClientPool {
    /// A class per address, so taking and returning a connection mutates in place.
    private final class IdleList { @exclusivity(unchecked) var connections: [HTTPClientConnection] = [] }
    @exclusivity(unchecked) private var idle: [String: IdleList] = [:]
    private let maxIdlePerHost: Int
    /// Shut down: connections finishing an exchange close instead of waiting here.
    @exclusivity(unchecked) private var isClosed = false
    /// The `HTTPClient` this pool belongs to (its unique number).
    let owner: Int

    init(maxIdlePerHost: Int, owner: Int) {
        self.maxIdlePerHost = maxIdlePerHost
        self.owner = owner
    }

    /// The list last checked out from, by address: a proxy sends to the same upstream again
    /// and again, and this spares it building and hashing the key each time.
    @exclusivity(unchecked) private var recent: (host: String, port: Int, key: String, list: IdleList)?

    /// The most recently used idle connection to `host:port`, if any.
    func checkOut(host: String, port: Int) -> HTTPClientConnection? {
        let list: IdleList
        if let recent, recent.port == port, recent.host == host {
            list = recent.list
        } else {
            let key = HTTPClient.poolKey(host: host, port: port)
            guard let found = idle[key] else { return nil }
            recent = (host, port, key, found)
            list = found
        }
        while let connection = list.connections.popLast() {
            if !connection.isClosed { return connection }
        }
        return nil
    }

    func checkIn(_ connection: HTTPClientConnection) {
        guard !isClosed else { connection.close(); return }
        let list: IdleList
        if let recent, recent.key == connection.key { list = recent.list }
        else if let existing = idle[connection.key] { list = existing } else { list = IdleList(); idle[connection.key] = list }
        guard list.connections.count < maxIdlePerHost else { connection.close(); return }
        list.connections.append(connection)
    }

    func remove(_ connection: HTTPClientConnection) {
        idle[connection.key]?.connections.removeAll { $0 === connection }
    }

    /// Idle connections to `key` (tests and the admin view).
    func idleCount(_ key: String) -> Int { idle[key]?.connections.count ?? 0 }

    func closeAll() {
        isClosed = true
        let all = idle.values.flatMap { $0.connections }
        idle = [:]
        recent = nil
        for c in all { c.close() }
    }
}
