import QuantumCore
import QuantumHandlers

/// The running side of one `reverse_proxy` handler: what each request reads, shared by reference.
final class ProxyEngine: Sendable {
    let upstreams: [Upstream]
    let loadBalancing: LoadBalancing
    let policy: SelectionPolicy
    let healthChecks: HealthChecks
    let passive: PassiveHealthCheck?
    let transport: HTTPTransport
    let headers: Headers?
    let trustedProxies: [CIDR]
    let streamTimeout: CaddyDuration?
    /// `rewrite`: the method and URI the upstream is asked for, when not the client's.
    let rewrite: Rewrite?
    /// `handle_response`: what to do with answers that match, in order.
    let handleResponse: [ResponseHandler]
    let client: HTTPClient

    init(upstreams: [Upstream], loadBalancing: LoadBalancing, healthChecks: HealthChecks, transport: HTTPTransport, headers: Headers?,
         trustedProxies: [CIDR], streamTimeout: CaddyDuration?, rewrite: Rewrite? = nil, handleResponse: [ResponseHandler] = []) {
        self.rewrite = rewrite
        self.handleResponse = handleResponse
        self.upstreams = upstreams
        self.loadBalancing = loadBalancing
        policy = loadBalancing.selectionPolicy ?? SelectionPolicy(.random)
        self.healthChecks = healthChecks
        passive = healthChecks.passive
        self.transport = transport
        self.headers = headers
        self.trustedProxies = trustedProxies
        self.streamTimeout = streamTimeout
        client = HTTPClient.shared(transport.configuration)
    }

    /// Healthy by the active checker and this handler's passive thresholds, and not full.
    func isAvailable(_ upstream: Upstream) -> Bool {
        upstream.state.isHealthyByActiveChecks && !upstream.isFull && !(passive?.isUnhealthy(upstream) ?? false)
    }

    @inline(__always)
    /// A deferred attempt (`startDeferred`) that handed the request back (`handoff`) counts as
    /// the first.
    nonisolated(nonsending) func handle(_ request: Request, _ context: Context, handoff: ProxyHandoff? = nil, next: Next? = nil) async throws -> Response {
        // The loop's time of this tick: `try_duration` counts in milliseconds, a clock read costs.
        let start = handoff?.started ?? context.loop?.now ?? SystemClock.monotonicNanos()
        var attempts = 0
        while true {
            attempts += 1
            let failure: ProxyFailure
            if attempts == 1, let failed = handoff?.failure {
                failure = failed  // (no passive checks to tell: they rule deferral out)
            } else if let choice = (attempts == 1 ? handoff?.choice : nil) ?? policy.select(upstreams, request, context, isAvailable: isAvailable) {
                do {
                    return try await attempt(choice, request, context, counted: attempts == 1 ? handoff?.exchange : nil, next: next)
                } catch let f as ProxyFailure {
                    // The client left: no upstream's fault, nothing to try again for.
                    if f.error == .cancelled { throw f.httpError }
                    failure = f
                    passive?.recordFailure(choice.upstream, loop: context.loop)
                }
            } else {
                failure = ProxyFailure(error: nil, upstream: nil, status: 503, message: "no upstreams available")
            }
            guard loadBalancing.mayTryAgain(attempts: attempts, start: start, now: SystemClock.monotonicNanos()),
                  try mayRetry(failure, request, context) else { throw failure.httpError }
            let pause = loadBalancing.intervalNanos
            if pause > 0 { try? await Task.sleep(nanoseconds: pause) }
        }
    }

    /// Caddy's rule: a request that never reached an upstream may always go to another; one
    /// that did only when it can be replayed (no body) and is a GET/HEAD or `retry_match`es.
    private func mayRetry(_ failure: ProxyFailure, _ request: Request, _ context: Context) throws -> Bool {
        guard let error = failure.error else { return true }  // no upstream was available
        if error.isDialError || error == .staleConnection { return true }
        guard request.body.knownLength == 0 else { return false }
        if request.method == "GET" || request.method == "HEAD" { return true }
        guard let sets = loadBalancing.retryMatch, !sets.isEmpty else { return false }
        var ctx = context
        return try MatcherSets(sets).matches(request, context: &ctx)
    }
}
