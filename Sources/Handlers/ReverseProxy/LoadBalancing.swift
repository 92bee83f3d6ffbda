import QuantumCore

/// `load_balancing`: which upstream, and whether a failed attempt is tried again.
public struct LoadBalancing: Sendable, Decodable {
    public var selectionPolicy: SelectionPolicy?
    public var retries: Int?
    public var tryDuration: CaddyDuration?
    public var tryInterval: CaddyDuration?
    public var retryMatch: [MatcherSet]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case selectionPolicy = "selection_policy", retries, tryDuration = "try_duration", tryInterval = "try_interval"
        case retryMatch = "retry_match"
    }

    public init() {}

    /// Another attempt is allowed after `attempts` tries that began at `start` (monotonic ns).
    func mayTryAgain(attempts: Int, start: UInt64, now: UInt64) -> Bool {
        if let retries, retries > 0, attempts <= retries { return true }
        if let d = tryDuration, d.nanoseconds > 0, now &- start < UInt64(d.nanoseconds) { return true }
        return false
    }

    /// The pause between attempts: `try_interval`, 250 ms by default when `try_duration` is set.
    var intervalNanos: UInt64 {
        if let t = tryInterval { return UInt64(max(0, t.nanoseconds)) }
        return (tryDuration?.nanoseconds ?? 0) > 0 ? 250_000_000 : 0
    }
}

/// `health_checks`.
public struct HealthChecks: Sendable, Decodable {
    public var active: ActiveHealthCheck?
    public var passive: PassiveHealthCheck?
    enum CodingKeys: String, CodingKey, CaseIterable { case active, passive }
    public init() {}
}
