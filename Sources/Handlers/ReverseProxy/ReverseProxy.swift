import QuantumCore
import QuantumHandlers

/// `reverse_proxy`: forwards requests to upstreams over pooled keep-alive connections, with
/// Caddy's load balancing, retries, active and passive health checks, header manipulation and
/// upgrade tunnelling (WebSocket or any `Upgrade:`).
///
/// Errors: no available upstream → 503; the upstream refused, reset or sent garbage → 502; a
/// timeout → 504. Error routes see `{http.reverse_proxy.*}`.
public struct ReverseProxy: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.reverse_proxy"

    public var upstreams: [Upstream] { engine.upstreams }
    public var loadBalancing: LoadBalancing { engine.loadBalancing }
    public var healthChecks: HealthChecks { engine.healthChecks }
    public var transport: HTTPTransport { engine.transport }
    public var headers: Headers? { engine.headers }
    package var trustedProxies: [CIDR] { engine.trustedProxies }
    /// Closes tunnelled upgrades after this long (`stream_timeout`).
    public var streamTimeout: CaddyDuration? { engine.streamTimeout }
    /// The method and URI sent upstream instead of the client's (`rewrite`; `forward_auth` uses it).
    public var rewrite: Rewrite? { engine.rewrite }
    /// What to do with matching upstream answers (`handle_response`).
    public var handleResponse: [ResponseHandler] { engine.handleResponse }

    /// The whole configuration and everything a request needs, behind one reference: the
    /// handler value is copied per request, so it holds nothing else.
    let engine: ProxyEngine

    enum CodingKeys: String, CodingKey, CaseIterable {
        case upstreams, loadBalancing = "load_balancing", healthChecks = "health_checks", transport, headers
        case trustedProxies = "trusted_proxies", flushInterval = "flush_interval", streamTimeout = "stream_timeout"
        case streamBufferSize = "stream_buffer_size", streamCloseDelay = "stream_close_delay", verboseLogs = "verbose_logs"
        case dynamicUpstreams = "dynamic_upstreams", rewrite, handleResponse = "handle_response"
        case requestBuffers = "request_buffers", responseBuffers = "response_buffers", circuitBreaker = "circuit_breaker"
    }

    package init(upstreams: [Upstream], loadBalancing: LoadBalancing = LoadBalancing(), healthChecks: HealthChecks = HealthChecks(),
                transport: HTTPTransport = HTTPTransport(), headers: Headers? = nil, trustedProxies: [CIDR] = []) {
        engine = ProxyEngine(upstreams: upstreams, loadBalancing: loadBalancing, healthChecks: healthChecks, transport: transport,
                             headers: headers, trustedProxies: trustedProxies, streamTimeout: nil)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.dynamicUpstreams, .requestBuffers, .responseBuffers, .circuitBreaker]
        where c.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key], "reverse_proxy field \"\(key.stringValue)\" is not supported yet")
        }
        let upstreams = try c.decodeIfPresent([Upstream].self, forKey: .upstreams) ?? []
        let loadBalancing = try c.decodeIfPresent(LoadBalancing.self, forKey: .loadBalancing) ?? LoadBalancing()
        let healthChecks = try c.decodeIfPresent(HealthChecks.self, forKey: .healthChecks) ?? HealthChecks()
        let transport = try c.decodeIfPresent(HTTPTransport.self, forKey: .transport) ?? HTTPTransport()
        let headers = try c.decodeIfPresent(Headers.self, forKey: .headers)
        let trustedProxies = try CIDR.parseList(try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? [],
                                                at: decoder.codingPath + [CodingKeys.trustedProxies])
        // Every write is flushed at once (Caddy's -1), which any positive interval allows too.
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .flushInterval)
        let streamTimeout = try c.decodeIfPresent(CaddyDuration.self, forKey: .streamTimeout)
        let rewrite = try c.decodeIfPresent(Rewrite.self, forKey: .rewrite)
        let handleResponse = try c.decodeIfPresent([ResponseHandler].self, forKey: .handleResponse) ?? []
        _ = try c.decodeIfPresent(Int.self, forKey: .streamBufferSize)
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .streamCloseDelay)
        _ = try c.decodeIfPresent(Bool.self, forKey: .verboseLogs)
        if case .weightedRoundRobin(let weights)? = loadBalancing.selectionPolicy?.kind, weights.count != upstreams.count {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.loadBalancing],
                              "weighted_round_robin needs one weight per upstream (\(weights.count) weights, \(upstreams.count) upstreams)")
        }
        engine = ProxyEngine(upstreams: upstreams, loadBalancing: loadBalancing, healthChecks: healthChecks, transport: transport,
                             headers: headers, trustedProxies: trustedProxies, streamTimeout: streamTimeout, rewrite: rewrite,
                             handleResponse: handleResponse)
    }

    public mutating func provision(_ context: ProvisionContext) throws {
        MetricsRegistry.shared.register("reverse_proxy") { UpstreamState.metrics() }
        if let active = healthChecks.active, let checker = ActiveHealthChecker(check: active, upstreams: engine.upstreams) {
            checker.start()
            context.onCleanup { checker.stop() }
        }
    }

    public func validate() throws {
        if engine.upstreams.isEmpty { throw ConfigError(path: "upstreams", "reverse_proxy needs at least one upstream") }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        try await engine.handle(request, context, next: next)
    }

    /// A request it can take goes out now and is answered later through the context's deferral
    /// (no task); the rest runs if it is handed back (with what the attempt decided), or at once
    /// for any other request.
    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        let slot = engine.startDeferred(request, context)
        let engine = self.engine
        let rest = next.async
        return .suspended(Resumption { try await engine.handle(request, context, handoff: slot?.handoff, next: rest) })
    }
}

/// A failed attempt, with what error routes should see.
struct ProxyFailure: Error {
    var error: HTTPClientError?
    var upstream: Upstream?
    var status: Int
    var message: String

    init(error: HTTPClientError?, upstream: Upstream?, status: Int? = nil, message: String? = nil) {
        self.error = error
        self.upstream = upstream
        // 499 when the client went away, as Caddy logs it (no one reads the answer).
        self.status = status ?? (error == .cancelled ? 499 : error?.isTimeout == true ? 504 : 502)
        self.message = message ?? error.map { "\($0)" } ?? ""
    }

    var httpError: HTTPError {
        var placeholders: [String: String] = [:]
        if let upstream { placeholders.merge(ProxyPlaceholders.upstream(upstream)) { $1 } }
        return HTTPError(status, message, placeholders: placeholders)
    }
}
