import QuantumCore

extension ProxyEngine {
    /// One try at one upstream: send the request, turn the upstream's answer into ours. (A
    /// method, not a value holding the request: copying a request per attempt costs retains.)
    @inline(__always)
    nonisolated(nonsending) func attempt(_ choice: SelectionPolicy.Choice, _ request: Request, _ context: Context,
                                         counted: UpstreamExchange? = nil, next: Next? = nil) async throws -> Response {
        let upstream = choice.upstream
        // A handed-back request is already counted in flight (`counted`).
        let exchange = counted ?? UpstreamExchange(upstream.state)
        // Placeholders cost a dictionary per request: built only when header ops may use them.
        var context = context
        let usesPlaceholders = self.headers != nil || !handleResponse.isEmpty
        if usesPlaceholders { for (name, value) in ProxyPlaceholders.upstream(upstream) { context.placeholders[name] = value } }
        let outgoing = upstreamRequest(request, to: upstream, context)
        // Latency is read only by passive health checks and placeholders.
        let measuresLatency = passive != nil || usesPlaceholders
        let sent = measuresLatency ? SystemClock.monotonicNanos() : 0
        var received: ClientResponse
        do {
            received = try await client.execute(outgoing, host: upstream.host, port: upstream.port, loop: context.loop,
                                                departure: context.departure)
        } catch let error as HTTPClientError {
            exchange.finish()
            throw ProxyFailure(error: error, upstream: upstream)
        }
        let headers = received.takeHeaders()
        let response = received
        exchange.response = response
        let latency = measuresLatency ? SystemClock.monotonicNanos() &- sent : 0
        if let passive = passive, passive.isFailure(status: response.status, latencyNanos: latency) {
            passive.recordFailure(upstream, loop: context.loop)
        }
        if usesPlaceholders {
            for (name, value) in ProxyPlaceholders.response(status: response.status, headers: headers, latencyNanos: latency) {
                context.placeholders[name] = value
            }
        }
        var result = try downstreamResponse(response, headers: consume headers, exchange, choice, ProxiedRequest(request, context))
        // Response handlers see the upstream's answer as it came (Caddy matches before its
        // `header_down` ops); routes that answer give their own response, untouched by the ops.
        if !handleResponse.isEmpty, let next, let routed = try await applyResponseHandlers(&result, request, context, next: next) {
            return routed
        }
        if let ops = self.headers?.response, ops.require?.matches(result) ?? true {
            let snapshot = context, before = result
            ops.ops.apply(to: &result.headers) { Template($0).render(request, snapshot, unknown: .keep, response: before) }
        }
        return result
    }

    /// The request as it goes to `upstream`: forwarding headers, then the `headers.request` ops.
    func upstreamRequest(_ request: Request, to upstream: Upstream, _ context: Context) -> ClientRequest {
        var hasBody = request.body.knownLength != 0
        var method = request.method
        var target = request.uri
        if let rewrite {
            let rewritten = rewrite.rewrite(request, context)
            // As Caddy: rewritten to GET or HEAD, the request goes without its body, which stays
            // for the handlers after the proxy (`forward_auth` asks first, then the app reads it).
            if rewritten.method != method && (rewritten.method == "GET" || rewritten.method == "HEAD") { hasBody = false }
            method = rewritten.method
            target = rewritten.uri
        }
        // RFC 8441: an extended CONNECT goes upstream as an HTTP/1.1 `GET` + `Upgrade`.
        if request.connectProtocol != nil && method == request.method { method = "GET" }
        var outgoing = ClientRequest(method: method, target: target, body: hasBody ? request.body : nil)
        var fields = HTTPFields(capacity: request.headers.count + 5)
        ForwardedHeaders.upstreamHeaders(for: request, trusted: peerIsTrusted(request, context), upstreamHost: upstream.hostPort,
                                         into: &fields)
        if let ops = self.headers?.request {
            ops.apply(to: &fields) { Template($0).render(request, context, unknown: .keep) }
        }
        outgoing.headers = fields
        return outgoing
    }

    /// Whether the client is a proxy whose `X-Forwarded-*` fields are extended, not replaced.
    func peerIsTrusted(_ request: Request, _ context: Context) -> Bool {
        context[PeerIsTrustedProxy.self] == true || trustedProxies.contains { $0.contains(request.connection.remoteAddress.bytes) }
    }

    /// Our answer from the upstream's (before the `headers.response` ops): its headers (taken
    /// out of `response`) filtered, its body passed on, the exchange released when the body ends.
    @inline(__always)
    func downstreamResponse(_ response: ClientResponse, headers: consuming HTTPFields, _ exchange: UpstreamExchange,
                            _ choice: SelectionPolicy.Choice, _ request: ProxiedRequest) throws -> Response {
        let upstream = choice.upstream
        ForwardedHeaders.prepareDownstream(&headers, status: response.status)
        var result = Response(status: response.status, headers: headers)
        result.forwardedFields = response.fieldBlock
        if let cookie = choice.setCookie { result.headers.add("Set-Cookie", cookie) }
        if response.status == 101 {
            guard request.asksUpgrade else {
                exchange.finish()
                throw ProxyFailure(error: .malformedResponse("101 to a request that asked for no upgrade"), upstream: upstream)
            }
            if request.isExtendedConnect {
                // Back to HTTP/2: the stream opens with a 200; HTTP/1.1's handshake fields go.
                result.status = 200
                for name in ["Connection", "Upgrade", "Sec-WebSocket-Accept"] { result.headers.remove(name) }
            }
            result.upgrade = Upgrade(Tunnel(exchange: exchange, loop: request.loop, timeout: streamTimeout).run)
        } else if request.isExtendedConnect && (200..<300).contains(response.status) {
            // Over HTTP/2 a 2xx would tell the client its tunnel is open; the upstream did not
            // switch protocols, so that would hand it a page to read as frames.
            exchange.finish()
            throw ProxyFailure(error: .malformedResponse("the upstream answered \(response.status), not 101, to an upgrade"), upstream: upstream)
        } else if request.isHead || response.status == 204 || response.status == 304 || response.status < 200 {
            // No body follows; a HEAD answer keeps the upstream's Content-Length.
            let declared = result.headers["content-length"].flatMap { Int($0) } ?? response.fieldBlock?.contentLength
            exchange.finish()
            result.body = .stream(length: declared) { _ in }
        } else if let whole = response.completeBody ?? response.body.takeIfComplete() {
            // The common small answer: already all here, so no stream and the upstream
            // connection is back in its pool before the client's response is even written.
            exchange.finish()
            result.body = .bytes(whole)
        } else {
            result.body = .stream(length: response.body.knownLength) { writer in
                do {
                    while let chunk = try await response.body.next() { try await writer.write(chunk) }
                    if !response.body.trailers.isEmpty { writer.setTrailers(response.body.trailers) }
                    exchange.finish()
                } catch {
                    exchange.finish()
                    throw error
                }
            }
        }
        return result
    }
}

/// What shaping an upstream's answer needs to know of the request: a few facts, cheaper to
/// keep until the answer comes than the request itself.
struct ProxiedRequest {
    let isHead: Bool
    /// It asked for a protocol switch (`Upgrade`, or HTTP/2's extended CONNECT).
    let asksUpgrade: Bool
    let isExtendedConnect: Bool
    unowned(unsafe) let loop: EventLoop?  // the request's loop: its connection holds it past the answer

    /// Borrows both (an initializer takes its arguments owned, which cost the fast path a copy
    /// and a destruction of the whole request; `borrowing` crashes Swift 6.3.1's optimizer here).
    init(_ request: __shared Request, _ context: __shared Context) {
        isHead = RequestHead.isHead(request.method)
        isExtendedConnect = request.connectProtocol != nil
        asksUpgrade = isExtendedConnect || request.headers.contains("upgrade")
        loop = context.loop
    }
}

/// One request's hold on its upstream: counted in flight (`least_conn`, `max_requests`) and
/// owning the upstream response until it ends. Whatever happens downstream — streamed to the
/// end, the client gone, the response dropped unwritten — both are released exactly once
/// (the connection back to its pool if its exchange ended cleanly).
/// `@unchecked Sendable`: used on the request's loop (its tasks prefer it); deinit's `finish` runs alone.
class UpstreamExchange: @unchecked Sendable {
    private let state: UpstreamState
    /// Set once the upstream answered (loop thread, before the response leaves the handler).
    @exclusivity(unchecked) final var response: ClientResponse?
    @exclusivity(unchecked) private var finished = false

    init(_ state: UpstreamState) {
        self.state = state
        state.requests.add(1, ordering: .relaxed)
    }

    final func finish() {
        guard !finished else { return }
        finished = true
        response?.discard()
        state.requests.subtract(1, ordering: .relaxed)
    }

    deinit { finish() }
}

/// Copies bytes both ways between the client's upgraded connection and the upstream's until
/// either side ends, then closes both.
struct Tunnel: Sendable {
    let exchange: UpstreamExchange
    let loop: EventLoop?
    let timeout: CaddyDuration?

    @Sendable func run(_ client: any UpgradedConnection) async throws {
        let exchange = self.exchange
        if let timeout, timeout.nanoseconds > 0, let loop {
            loop.schedule(afterNanoseconds: UInt64(timeout.nanoseconds)) { client.abort(); exchange.finish() }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: loop) {
                while let bytes = try? await client.read() {
                    do { try await exchange.response?.writeUpgraded(bytes) } catch { break }
                }
                exchange.finish()
            }
            group.addTask(executorPreference: loop) {
                while let body = exchange.response?.body, let bytes = try? await body.next() {
                    do { try await client.write(bytes) } catch { break }
                }
                client.close()
            }
        }
        exchange.finish()
    }
}
