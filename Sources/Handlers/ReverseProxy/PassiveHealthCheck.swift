import QuantumCore

/// `health_checks.passive`: judges upstreams by the proxied traffic itself. Failures are
/// remembered for `fail_duration` (off when unset); `max_fails` of them mark an upstream down.
public struct PassiveHealthCheck: Sendable, Decodable {
    public var failDuration: CaddyDuration?
    public var maxFails: Int?
    public var unhealthyRequestCount: Int?
    public var unhealthyStatus: [Int]?
    public var unhealthyLatency: CaddyDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case failDuration = "fail_duration", maxFails = "max_fails", unhealthyRequestCount = "unhealthy_request_count"
        case unhealthyStatus = "unhealthy_status", unhealthyLatency = "unhealthy_latency"
    }

    public init(failDuration: CaddyDuration? = nil, maxFails: Int? = nil, unhealthyRequestCount: Int? = nil,
                unhealthyStatus: [Int]? = nil, unhealthyLatency: CaddyDuration? = nil) {
        self.failDuration = failDuration
        self.maxFails = maxFails
        self.unhealthyRequestCount = unhealthyRequestCount
        self.unhealthyStatus = unhealthyStatus
        self.unhealthyLatency = unhealthyLatency
    }

    var remembersFailures: Bool { (failDuration?.nanoseconds ?? 0) > 0 }

    /// Down by this handler's thresholds.
    func isUnhealthy(_ upstream: Upstream) -> Bool {
        if remembersFailures, upstream.state.failCount >= max(1, maxFails ?? 1) { return true }
        if let limit = unhealthyRequestCount, limit > 0, upstream.maxRequests == 0, upstream.activeRequests >= limit { return true }
        return false
    }

    /// Whether a response counts as a failure (`unhealthy_status`, `unhealthy_latency`).
    func isFailure(status: Int, latencyNanos: UInt64) -> Bool {
        guard remembersFailures else { return false }
        if let codes = unhealthyStatus, codes.contains(status) { return true }
        if let latency = unhealthyLatency, latency.nanoseconds > 0, latencyNanos >= UInt64(latency.nanoseconds) { return true }
        return false
    }

    /// Counts one failure against `upstream` for `fail_duration`.
    func recordFailure(_ upstream: Upstream, loop: EventLoop?) {
        guard remembersFailures, let duration = failDuration, let loop = loop ?? HTTPClient.defaultLoop else { return }
        let state = upstream.state
        state.fails.add(1, ordering: .relaxed)
        loop.schedule(afterNanoseconds: UInt64(duration.nanoseconds)) { state.fails.subtract(1, ordering: .relaxed) }
    }
}
