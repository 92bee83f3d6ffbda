import QuantumCore
import Synchronization

/// One backend (`{"dial": "10.0.0.1:8080", "max_requests": 100}`). Its health and load live in
/// an `UpstreamState` shared by every handler that names the same address — across config
/// reloads too, as Caddy's global upstream pool (the active checks' verdict lasts only as long
/// as some checker probes the address).
public struct Upstream: Sendable, Decodable {
    public let dial: String
    public let maxRequests: Int
    let host: String
    let port: Int
    let state: UpstreamState

    enum CodingKeys: String, CodingKey, CaseIterable { case dial, maxRequests = "max_requests" }

    public init(dial: String, maxRequests: Int = 0) throws(ConfigError) {
        let split = HostPort.split(dial.hasPrefix("tcp/") ? String(dial.dropFirst(4)) : dial)
        guard !split.host.isEmpty, let port = Int(split.port), (1...65535).contains(port) else {
            throw ConfigError(path: "", "invalid upstream address \"\(dial)\": expected host:port")
        }
        self.dial = dial
        self.maxRequests = maxRequests
        host = split.host
        self.port = port
        state = UpstreamState.shared(for: "\(split.host.contains(":") ? "[\(split.host)]" : split.host):\(port)")
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let dial = try c.decode(String.self, forKey: .dial)
        let max = try c.decodeIfPresent(Int.self, forKey: .maxRequests) ?? 0
        do { try self.init(dial: dial, maxRequests: max) } catch {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.dial], error.message)
        }
        // In use while this config is: the admin API lists the upstreams configs use.
        if let context = try? decoder.provisionContext {
            let state = self.state
            state.users.add(1, ordering: .relaxed)
            context.onCleanup { state.users.subtract(1, ordering: .relaxed) }
        }
    }

    /// `host:port` as it is dialled (`{http.reverse_proxy.upstream.hostport}`).
    public var hostPort: String { state.address }

    /// Requests in flight to this address, through every handler.
    public var activeRequests: Int { state.requests.load(ordering: .relaxed) }

    /// At its own `max_requests`.
    var isFull: Bool { maxRequests > 0 && activeRequests >= maxRequests }
}

/// Health and load of one upstream address, process-wide.
public final class UpstreamState: Sendable {
    public let address: String
    /// Requests in flight.
    let requests = Atomic<Int>(0)
    /// Passive-check failures still inside their `fail_duration` window.
    let fails = Atomic<Int>(0)
    /// Loaded configs that name this address.
    let users = Atomic<Int>(0)
    /// The verdict of the active health checker (upstreams start healthy, as in Caddy).
    let activeHealthy = Atomic<Bool>(true)
    /// Active checkers probing this address: the verdict is reset to healthy when the last one
    /// stops, so a config without active checks never inherits a "down" nobody will lift.
    private let checkers = Mutex<Int>(0)

    init(address: String) { self.address = address }

    /// A checker starts probing this address.
    func retainChecker() { checkers.withLock { $0 += 1 } }

    /// A checker stopped; the last one leaves the address healthy.
    func releaseChecker() {
        checkers.withLock { count in
            count -= 1
            if count == 0 { activeHealthy.store(true, ordering: .relaxed) }
        }
    }

    /// Records a checker's verdict unless every checker has stopped meanwhile.
    func setActiveVerdict(_ healthy: Bool) {
        checkers.withLock { count in if count > 0 { activeHealthy.store(healthy, ordering: .relaxed) } }
    }

    public var isHealthyByActiveChecks: Bool { activeHealthy.load(ordering: .relaxed) }
    public var failCount: Int { fails.load(ordering: .relaxed) }
    public var requestCount: Int { requests.load(ordering: .relaxed) }

    private static let all = Mutex<[String: UpstreamState]>([:])

    /// The one state object for `address`.
    static func shared(for address: String) -> UpstreamState {
        all.withLock { states in
            if let s = states[address] { return s }
            let s = UpstreamState(address: address)
            states[address] = s
            return s
        }
    }

    /// The upstreams loaded configs name (the admin `/reverse_proxy/upstreams` view), by address.
    public static var inUse: [UpstreamState] {
        all.withLock { Array($0.values) }.filter { $0.users.load(ordering: .relaxed) > 0 }.sorted { $0.address < $1.address }
    }
}
