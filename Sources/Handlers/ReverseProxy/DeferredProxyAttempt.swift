import QuantumCore

/// What a deferred attempt leaves for the async run of a request it handed back: the upstream
/// it already chose (so `round_robin` and friends do not advance twice) with the request still
/// counted against it (`least_conn`, `max_requests` see no gap), or why it failed (so the retry
/// rules see one attempt, not zero), and when it began (`try_duration`).
struct ProxyHandoff: Sendable {
    let choice: SelectionPolicy.Choice?
    let exchange: UpstreamExchange?
    let failure: ProxyFailure?
    let started: UInt64
}

extension ProxyEngine {
    /// Where a deferred attempt leaves its handoff for the async rest of the request.
    /// `@unchecked Sendable`: written on the loop before the promise is handed back, read by
    /// the rest, which the connection starts on the loop after that.
    final class HandoffSlot: @unchecked Sendable {
        var handoff: ProxyHandoff?
    }

    /// Whether a request can be proxied with no task at all: nothing per request needs more than
    /// the loop (no header ops and their placeholders, no passive checks timing the answer), and
    /// pooled connections exist to send it on.
    var defersSimpleRequests: Bool { headers == nil && passive == nil && rewrite == nil && handleResponse.isEmpty && client.configuration.keepAlive }

    /// The synchronous attempt: when the connection offers a deferral and the request is a plain
    /// GET or HEAD, it goes out at once on an idle pooled connection and the upstream's answer
    /// is given from the loop. Anything else (a body, an upgrade, no idle connection, a failure)
    /// is handed back to the async path with what was decided, in the slot returned. Nil (and
    /// nothing done) when it cannot take the request, leaving it to the async path untouched.
    func startDeferred(_ request: Request, _ context: Context) -> HandoffSlot? {
        // Offers come only with bodiless HTTP/1.1 requests that ask for no upgrade today; the
        // checks keep this path right if other connections make offers.
        guard defersSimpleRequests, context.deferral != nil, let loop = context.loop else { return nil }
        let proxied = ProxiedRequest(request, context)
        guard !proxied.asksUpgrade, proxied.isHead || request.method == "GET", request.body.knownLength == 0,
              let promise = context.deferral?.take()
        else { return nil }
        // The request is ours from here: it gets an answer or is handed back, exactly once.
        let began = loop.now
        let slot = HandoffSlot()
        guard let choice = policy.select(upstreams, request, context, isAvailable: isAvailable) else {
            let failure = ProxyFailure(error: nil, upstream: nil, status: 503, message: "no upstreams available")
            slot.handoff = ProxyHandoff(choice: nil, exchange: nil, failure: failure, started: began)
            promise.handBack()
            return slot
        }
        let exchange = DeferredProxyExchange(engine: self, promise: promise, slot: slot, choice: choice, proxied: proxied, began: began)
        let trusted = peerIsTrusted(request, context)
        // Both heads stay bytes (no header ops here to read them): the request's is written
        // straight out, the answer's fields come as a block, hop-by-hop ones left out.
        let sent = client.startOnIdleConnection(host: choice.upstream.host, port: choice.upstream.port, loop: loop,
                                                isHeadRequest: proxied.isHead, fieldFilter: { ForwardedHeaders.isHopByHop($0) }) { head in
            ForwardedHeaders.writeUpstreamHead(for: request, trusted: trusted, upstreamHost: choice.upstream.hostPort, into: &head)
        } completion: { exchange.receive($0) }
        guard let sent else { exchange.handBack(keepingCount: true, failure: nil); return slot }
        // A client that leaves before the answer leaves no upstream connection waiting on it.
        promise.onClientGone { sent.abandon() }
        return slot
    }
}

/// A deferred attempt's hold on its upstream, and the receiver of the upstream's answer: one
/// object per attempt (the callback captures only it, so it needs no context of its own).
/// `@unchecked Sendable`: its own fields are immutable; `receive` runs on the loop (the client's completion).
final class DeferredProxyExchange: UpstreamExchange, @unchecked Sendable {
    private let engine: ProxyEngine
    private let promise: ResponsePromise
    private let slot: ProxyEngine.HandoffSlot
    private let choice: SelectionPolicy.Choice
    private let proxied: ProxiedRequest
    private let began: UInt64

    init(engine: ProxyEngine, promise: ResponsePromise, slot: ProxyEngine.HandoffSlot, choice: SelectionPolicy.Choice,
         proxied: ProxiedRequest, began: UInt64) {
        self.engine = engine
        self.promise = promise
        self.slot = slot
        self.choice = choice
        self.proxied = proxied
        self.began = began
        super.init(choice.upstream.state)
    }

    func receive(_ result: consuming Result<ClientResponse, HTTPClientError>) {
        switch consume result {
        case .success(var received):
            let headers = received.takeHeaders()
            // A whole body means the upstream exchange is over: nothing left to discard.
            if received.completeBody == nil { response = received }
            do {
                promise.succeed(try engine.downstreamResponse(received, headers: consume headers, self, choice, proxied))
            } catch {
                finish()
                handBack(keepingCount: false, failure: error as? ProxyFailure)
            }
        case .failure(let error):
            // A pooled connection the upstream had closed is no failed attempt: the async run
            // tries the same upstream again (and dials if the next pooled one is stale too).
            if error == .staleConnection {
                handBack(keepingCount: true, failure: nil)
            } else if error == .cancelled {
                finish()  // the client went away: no attempt to hand on, nothing to try again
                promise.succeed(Response(status: 499))
            } else {
                finish()
                handBack(keepingCount: false, failure: ProxyFailure(error: error, upstream: choice.upstream))
            }
        }
    }

    /// Gives the request to the async path, still counted against the upstream when it will go
    /// there again (`keepingCount`).
    func handBack(keepingCount: Bool, failure: ProxyFailure?) {
        slot.handoff = ProxyHandoff(choice: choice, exchange: keepingCount ? self : nil, failure: failure, started: began)
        promise.handBack()
    }
}
