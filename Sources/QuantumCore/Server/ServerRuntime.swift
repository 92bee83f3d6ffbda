/// Set in a request's context when the peer is one of the server's `trusted_proxies`: its
/// `X-Forwarded-*` headers may be believed (the reverse proxy extends rather than replaces them).
package enum PeerIsTrustedProxy: ContextKey { public typealias Value = Bool }

/// Timeouts and limits of one server (Caddy's server fields), in nanoseconds.
package struct ServerLimits: Sendable {
    public var http1 = HTTP1Limits()
    public var http2 = HTTP2Limits()
    public var readHeaderTimeout: UInt64? = 60_000_000_000
    public var readTimeout: UInt64?
    public var writeTimeout: UInt64?
    public var idleTimeout: UInt64? = 300_000_000_000
    /// TCP keep-alive probe interval; nil turns probes off.
    public var keepaliveInterval: UInt64? = 15_000_000_000
    public init() {}
}

/// What a connection needs from its server: limits and the compiled routes. Immutable; a
/// reload makes a new one, and connections keep the one they were accepted with.
package final class ServerRuntime: Sendable {
    public let name: String
    public let limits: ServerLimits
    let program: RouteProgram
    let errorProgram: RouteProgram?
    let clientIP: ClientIPResolver?
    /// The server's TLS handshakes, when it has `tls_connection_policies`.
    public let tls: TLSServerContext?
    /// Caddy's `strict_sni_host`: over TLS, the Host must equal the SNI (421 otherwise).
    let strictSNIHost: Bool
    /// The HTTP versions this server speaks (`protocols`).
    public let protocols: HTTPProtocols
    /// On when the server's config has `logs`.
    let accessLog: AccessLog?
    /// Handler errors (`http.log.error`), to the logs that take them.
    let errorLog: ErrorLog?

    public init(name: String, limits: ServerLimits, routes: RouteList, errors: RouteList? = nil,
                clientIP: ClientIPResolver? = nil, tls: TLSServerContext? = nil, strictSNIHost: Bool? = nil,
                protocols: HTTPProtocols = HTTPProtocols(), accessLog: AccessLog? = nil, errorLog: ErrorLog? = nil) {
        self.protocols = protocols
        self.accessLog = accessLog
        self.errorLog = errorLog
        self.name = name
        self.limits = limits
        program = RouteProgram(routes)
        errorProgram = errors.map { RouteProgram($0) }
        self.clientIP = clientIP
        self.tls = tls
        self.strictSNIHost = tls != nil && (strictSNIHost ?? tls!.hasClientAuth)
    }

    /// Records an answered request: the access log's entry (with `logs`) and the metrics of the
    /// instrumented handlers it came through. `size` is the body bytes sent, `started` the
    /// monotonic time its handling began. The request is made only when there is a log to write.
    @inline(__always)
    func completed(_ request: @autoclosure () -> Request, _ response: Response, size: Int, started: UInt64, loop: EventLoop?) {
        if let trail = response.metricsTrail {
            MetricsProbe.finish(trail, status: response.unhandled ? 0 : response.status, size: response.unhandled ? 0 : size, loop: loop)
        }
        guard let accessLog else { return }
        var headers = response.headers
        if let forwarded = response.forwardedFields {
            var all = forwarded.fields
            for field in headers { all.add(field.name, field.value) }
            headers = all
        }
        accessLog.record(request(), status: response.unhandled ? 0 : response.status, size: response.unhandled ? 0 : size,
                         headers: headers, userID: response.authenticatedUser ?? "", startedNanos: started, loop: loop)
    }

    /// Caddy's strict host check: a client must not present one name in the handshake (passing
    /// that policy's client authentication, say) and ask for another host.
    private func misdirected(_ request: Request) -> Bool {
        guard strictSNIHost, let tls = request.connection.tls else { return false }
        return !request.hostname.equalsIgnoringASCIICase(tls.serverName)
    }

    /// The context a request starts with (`{http.vars.client_ip}` when proxies are trusted).
    func prepare(_ request: Request, _ context: Context) -> Context {
        guard let clientIP else { return context }
        var context = context
        context.vars["client_ip"] = clientIP.clientIP(for: request)
        if clientIP.trusted.contains(request.connection.remoteAddress.bytes) { context[PeerIsTrustedProxy.self] = true }
        return context
    }

    /// The synchronous fast path: the answer when every handler on the request's path gave it
    /// without suspending, else the rest to run in a task from where the run stopped. That rest
    /// never throws: errors have gone through the error routes.
    public func respondInline(_ request: Request, context: Context) -> SyncResult {
        var context = prepare(request, context)
        if strictSNIHost && misdirected(request) {
            let ctx = context
            return .suspended(Resumption { await self.respondToError(Self.misdirectedError, request: request, context: ctx) })
        }
        // With error routes, handlers share a scope so the error routes see their vars and the
        // headers written before the failure.
        let owned = errorProgram != nil && context.installScope()
        let ctx = context
        do {
            switch try SyncNext(program.entry, hidesDeferral: false)(request, context) {
            case .response(let response):
                return .response(owned ? context.applyPendingResponseHeaders(to: response) : response)
            case .suspended(let rest):
                return .suspended(Resumption { await self.finish(request, ctx, owned: owned) { try await rest() } })
            }
        } catch {
            return .suspended(Resumption { await self.finish(request, ctx, owned: owned) { throw error } })
        }
    }

    /// Runs the request through the routes; errors go to the error routes, then to a bare status.
    @inline(__always)
    nonisolated(nonsending) public func respond(_ request: Request, context: Context) async -> Response {
        var context = prepare(request, context)
        if strictSNIHost && misdirected(request) {
            return await respondToError(Self.misdirectedError, request: request, context: context)
        }
        let owned = errorProgram != nil && context.installScope()
        let entry = program.entry
        return await finish(request, context, owned: owned) { [context] in try await entry(request, context) }
    }

    private static let misdirectedError = HTTPError(421, "strict host matching: TLS ServerName and HTTP Host values differ")

    /// The answer of `body`, or of the error routes when it throws, with the scope's early
    /// headers when this request's scope was made here.
    nonisolated(nonsending) private func finish(_ request: Request, _ context: Context, owned: Bool,
                                                _ body: nonisolated(nonsending) () async throws -> Response) async -> Response {
        let response: Response
        do {
            response = try await body()
        } catch {
            response = await respondToError(error, request: request, context: context.restoringFailure())
        }
        return owned ? context.applyPendingResponseHeaders(to: response) : response
    }

    nonisolated(nonsending) private func respondToError(_ error: any Error, request: Request, context: Context) async -> Response {
        let httpError = error as? HTTPError ?? HTTPError(500, "\(error)")
        let id = ErrorID.make()
        errorLog?.record(request, httpError, id: id, started: context.started, loop: context.loop)
        if let errorProgram {
            var ctx = context
            ctx.deferral = nil
            ErrorPlaceholders.set(httpError, id: id, in: &ctx)
            var original = request
            original.method = request.originalMethod
            let (path, query) = ErrorPlaceholders.splitURI(request.originalURI)
            original.rawPath = path
            original.query = query
            do {
                var response = try await errorProgram.entry(original, ctx)
                if response.status == 200 && ErrorPlaceholders.isDefault(response) { response.status = httpError.status }
                return ErrorPlaceholders.carryingHeaders(of: httpError, response)
            } catch {
                let second = error as? HTTPError ?? HTTPError(500, "\(error)")
                return ErrorPlaceholders.carryingHeaders(of: httpError, Response(status: second.status))
            }
        }
        return ErrorPlaceholders.carryingHeaders(of: httpError, Response(status: httpError.status))
    }
}

/// `{http.error.*}` placeholders for error routes.
enum ErrorPlaceholders {
    static func set(_ e: HTTPError, id: String, in ctx: inout Context) {
        ctx.placeholders["http.error.status_code"] = String(e.status)
        ctx.placeholders["http.error.status_text"] = HTTPStatus.reason(e.status)
        ctx.placeholders["http.error.message"] = e.message
        ctx.placeholders["http.error"] = e.description
        ctx.placeholders["http.error.trace"] = ""
        ctx.placeholders["http.error.id"] = id
        for (name, value) in e.placeholders { ctx.placeholders[name] = value }
    }

    /// The failing handler's header fields on the error answer (those the answer sets itself win).
    static func carryingHeaders(of error: HTTPError, _ response: Response) -> Response {
        guard !error.headers.isEmpty else { return response }
        var response = response
        for field in error.headers where !response.headers.contains(field.name) { response.headers.add(field.name, field.value) }
        return response
    }

    static func splitURI(_ uri: String) -> (String, String) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }

    /// An error chain that handled nothing yields the empty 200; Caddy then writes the error status.
    static func isDefault(_ r: Response) -> Bool {
        if case .empty = r.body, r.headers.isEmpty, r.upgrade == nil { return true }
        return false
    }
}

/// Short random IDs (error ids, request ids).
enum ErrorID {
    static func make() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var g = SystemRandomNumberGenerator()
        return String((0..<9).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }
}
