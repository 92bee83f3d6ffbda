import QuantumCore
import Synchronization

/// `health_checks.active`: probes every upstream on a timer and marks it down after `fails`
/// consecutive bad answers, up again after `passes` good ones. Enabled when `uri`, `path` or
/// `port` is set, as in Caddy.
public struct ActiveHealthCheck: Sendable, Decodable {
    public var uri: String?
    public var path: String?
    public var port: Int?
    public var method: String?
    public var body: String?
    public var headers: [String: [String]]?
    public var interval: CaddyDuration?
    public var timeout: CaddyDuration?
    public var passes: Int?
    public var fails: Int?
    public var maxSize: Int?
    public var expectStatus: Int?
    package var expectBody: Pattern?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case uri, path, port, method, body, headers, interval, timeout, passes, fails
        case maxSize = "max_size", expectStatus = "expect_status", expectBody = "expect_body"
    }

    var isEnabled: Bool { uri != nil || path != nil || port != nil }

    var target: String {
        let t = uri ?? path ?? "/"
        return t.hasPrefix("/") ? t : "/" + t
    }

    /// Whether a probe's answer means healthy: `expect_status` (a single digit is a class),
    /// else any 2xx; and `expect_body` must match when set.
    func accepts(status: Int, body: [UInt8]) -> Bool {
        if let expect = expectStatus {
            if expect < 10 { if status / 100 != expect { return false } } else if status != expect { return false }
        } else if !(200..<300).contains(status) {
            return false
        }
        if let expectBody, !expectBody.matches(String(decoding: body, as: UTF8.self)) { return false }
        return true
    }
}

/// Runs one handler's active checks on an event loop until the config that made it unloads.
final class ActiveHealthChecker: Sendable {
    private let check: ActiveHealthCheck
    private let upstreams: [Upstream]
    private let client: HTTPClient
    private let loop: EventLoop
    private let stopped = Atomic<Bool>(false)
    private let streaks = Mutex<[String: (passes: Int, fails: Int)]>([:])

    init?(check: ActiveHealthCheck, upstreams: [Upstream]) {
        guard check.isEnabled, let loop = HTTPClient.defaultLoop else { return nil }
        self.check = check
        self.upstreams = upstreams
        self.loop = loop
        var configuration = HTTPClient.Configuration()
        configuration.keepAlive = false
        let timeout = UInt64(max(1, check.timeout?.nanoseconds ?? 5_000_000_000))
        configuration.dialTimeout = timeout
        configuration.responseHeaderTimeout = timeout
        configuration.readTimeout = timeout
        client = HTTPClient(configuration: configuration)
    }

    /// Distinct upstream states this checker probes (an address named twice counts once).
    private var states: [UpstreamState] {
        var seen = Set<ObjectIdentifier>()
        return upstreams.map(\.state).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    func start() {
        for state in states { state.retainChecker() }
        Task(executorPreference: loop) { await self.run() }
    }

    /// Ends the probes; an address no other checker probes is healthy again (Caddy resets active
    /// health when a config unloads).
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        streaks.withLock { _ in
            for state in states { state.releaseChecker() }
        }
    }

    private func run() async {
        let interval = UInt64(max(1_000_000, check.interval?.nanoseconds ?? 30_000_000_000))
        while !stopped.load(ordering: .relaxed) {
            await withTaskGroup(of: Void.self) { group in
                for upstream in upstreams { group.addTask(executorPreference: loop) { await self.probe(upstream) } }
            }
            try? await Task.sleep(nanoseconds: interval)
        }
    }

    private func probe(_ upstream: Upstream) async {
        var headers = HTTPFields()
        var hostSet = false
        for (name, values) in (check.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            for value in values { headers.add(name, value) }
            if name.equalsIgnoringASCIICase("host") { hostSet = true }
        }
        let port = check.port ?? upstream.port
        if !hostSet { headers.add("Host", upstream.host.contains(":") ? "[\(upstream.host)]:\(port)" : "\(upstream.host):\(port)") }
        headers.add("User-Agent", "Quantum-health-check")
        let body = check.body.map { RequestBody(bytes: Array($0.utf8)) }
        let request = ClientRequest(method: check.method ?? "GET", target: check.target, headers: headers, body: body)
        var healthy = false
        if let response = try? await client.execute(request, host: upstream.host, port: port, loop: loop) {
            let limit = check.maxSize.map { $0 > 0 ? $0 : Int.max } ?? Int.max
            var bytes: [UInt8] = []
            while bytes.count <= limit, let chunk = try? await response.body.next() { bytes += chunk }
            response.discard()
            healthy = check.accepts(status: response.status, body: Array(bytes.prefix(limit)))
        }
        record(upstream, healthy: healthy)
    }

    private func record(_ upstream: Upstream, healthy: Bool) {
        let needPasses = max(1, check.passes ?? 1), needFails = max(1, check.fails ?? 1)
        streaks.withLock { all in
            guard !stopped.load(ordering: .relaxed) else { return }
            var s = all[upstream.hostPort] ?? (0, 0)
            if healthy { s.passes += 1; s.fails = 0 } else { s.fails += 1; s.passes = 0 }
            all[upstream.hostPort] = s
            if healthy && s.passes >= needPasses { upstream.state.setActiveVerdict(true) }
            if !healthy && s.fails >= needFails { upstream.state.setActiveVerdict(false) }
        }
    }
}
