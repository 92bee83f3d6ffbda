import CQuantumLinux
import Glibc

/// One HTTP/1.1 connection to a server, confined to its event loop. It carries one exchange at
/// a time; once the request and the response have both ended cleanly and neither side asked to
/// close, it goes back to its pool for the next one. The exchange is here; the socket side
/// (readiness, decoding, output, the end) is in `+IO`, so members are module-internal.
final class HTTPClientConnection: LoopIOHandler, TickEndWork, BodySource, @unchecked Sendable {
    enum Phase { case connecting, idle, busy, upgraded, closed }

    /// The socket (and its TLS session), its output queue and its epoll interest.
    let io: SocketTransport
    /// Strong: an unowned reference costs an atomic liveness check on every use, and the
    /// loop's registration of this connection, the only way back, ends when it closes.
    let loop: EventLoop
    let key: String
    let configuration: HTTPClient.Configuration
    /// Plain TCP, or TLS to an https server.
    /// Strong, not weak: a weak reference would give the pool a side table and make every
    /// retain of it slower. Dropped on close; a pool that was shut down closes what comes back.
    @exclusivity(unchecked) var pool: ClientPool?

    @exclusivity(unchecked) var phase = Phase.connecting
    @exclusivity(unchecked) var decoder: HTTP1Decoder
    @exclusivity(unchecked) var connectWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) var headWaiter: UnsafeContinuation<(ResponseHead, RequestBody), any Error>?
    /// The callback form of `headWaiter` (`onResponse`), called once this read has been decoded.
    @exclusivity(unchecked) var headCallback: ResponseCallback?
    @exclusivity(unchecked) var callbackResponse: ClientResponse?
    /// Inside a TLS session's `feed`, whose scratch space is the loop's read buffer.
    @exclusivity(unchecked) var feeding = false
    @exclusivity(unchecked) var head: ResponseHead?
    @exclusivity(unchecked) var body: BodyStream?
    @exclusivity(unchecked) var drainWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) var timer: LoopTimer?
    @exclusivity(unchecked) var requestEnded = false
    @exclusivity(unchecked) var responseEnded = false
    @exclusivity(unchecked) var requestKeepAlive = true
    @exclusivity(unchecked) var receivedResponseBytes = false
    @exclusivity(unchecked) var inputClosed = false
    /// Exchanges completed on this connection (a reused connection may have gone stale).
    @exclusivity(unchecked) var completedExchanges = 0
    /// Numbers exchanges, so a response handle from an earlier one cannot touch a later one.
    @exclusivity(unchecked) var exchangeNumber = 0

    init(fd: Int32, loop: EventLoop, key: String, configuration: HTTPClient.Configuration, pool: ClientPool,
         wire: SocketTransport.Wire = .plain) {
        io = SocketTransport(fd: fd, loop: loop, wire: wire, interest: EPOLLOUT.rawValue)
        self.loop = loop
        self.key = key
        self.configuration = configuration
        self.pool = pool
        var limits = HTTP1Limits()
        limits.maxHeaderBytes = configuration.maxResponseHeaderBytes
        decoder = HTTP1Decoder(limits: limits, decodesResponses: true)
    }

    var isClosed: Bool { phase == .closed }

    // MARK: - Exchange (loop thread)

    /// Registers the connecting socket and waits until the connection is made. A cancelled task
    /// (its client went away) abandons the attempt.
    nonisolated(nonsending) func connect(departure: ClientDeparture? = nil) async throws {
        let token = departure?.whenDeparted { [self] in abandon(exchange: nil) }
        defer { if let token { departure?.forget(token) } }
        try await withTaskCancellationHandler {
            try await connectOnce()
        } onCancel: {
            abandon(exchange: nil)
        }
    }

    nonisolated(nonsending) func connectOnce() async throws {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
            do {
                try io.register(self)
            } catch {
                phase = .closed
                io.release(farewell: false)
                c.resume(throwing: HTTPClientError.connectFailed("\(error)"))
                return
            }
            connectWaiter = c
            if let t = configuration.dialTimeout {
                // Captured strongly (no weak reference, so no side table): the timer is cancelled on
                // success or close, and a cancelled timer's closure only lives to its deadline.
                timer = loop.schedule(afterNanoseconds: t) { self.fail(.connectTimeout) }
            }
        }
    }

    /// Starts an exchange: `writeHead` appends the request head (and perhaps a small body) to
    /// the output buffer.
    func begin(bodiless: Bool, keepAlive: Bool, fieldFilter: FieldBlock.Filter? = nil, writeHead: (inout [UInt8]) -> Void) {
        phase = .busy
        exchangeNumber += 1
        head = nil
        body = nil
        requestEnded = false
        responseEnded = false
        receivedResponseBytes = false
        requestKeepAlive = keepAlive
        decoder.nextResponseIsBodiless = bodiless
        decoder.nextResponseFieldFilter = fieldFilter
        io.lastRead = loop.now
        io.lastWriteProgress = loop.now
        io.out.withTail(writeHead)
        scheduleFlush()
        updateInterest()
    }

    /// Queues request body bytes, suspending while the server reads slower than we send.
    nonisolated(nonsending) func writeBody(_ bytes: [UInt8]) async throws {
        guard phase == .busy || phase == .upgraded else { throw HTTPClientError.connectionClosed }
        io.out.append(bytes)
        scheduleFlush()
        guard io.out.pendingBytes >= BodyStream.highWatermark else { return }
        flush()
        guard phase != .closed else { throw HTTPClientError.connectionClosed }
        guard io.out.pendingBytes >= BodyStream.highWatermark else { return }
        try await withUnsafeThrowingContinuation { c in drainWaiter = c }
    }

    /// The whole request is queued: the response head timeout starts now.
    func requestFinished() {
        requestEnded = true
        if head == nil, phase == .busy, let t = configuration.responseHeaderTimeout {
            timer = loop.schedule(afterNanoseconds: t) {
                guard self.head == nil, self.phase == .busy else { return }
                self.fail(.responseHeaderTimeout)
            }
        }
        finishExchangeIfDone()
    }

    /// Waits for the response head; its body (raw bytes after a 101) streams behind it. The
    /// two are handed over together: a small response may have ended by the time the caller runs.
    /// A cancelled task (its client went away) abandons the exchange and closes the connection.
    nonisolated(nonsending) func response(departure: ClientDeparture? = nil) async throws -> (ResponseHead, RequestBody) {
        if let head { return (head, RequestBody(stream: body)) }
        guard phase == .busy else { throw HTTPClientError.connectionClosed }
        let exchange = exchangeNumber
        let token = departure?.whenDeparted { [self] in abandon(exchange: exchange) }
        defer { if let token { departure?.forget(token) } }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { c in headWaiter = c }
        } onCancel: {
            abandon(exchange: exchange)
        }
    }

    /// The client of exchange number `exchange` (nil: the connection being made) went away:
    /// the connection closes, failing whoever waits with `.cancelled`; nothing is owed to the
    /// upstream any more. From any thread; once the connection serves another exchange (back
    /// in the pool, taken again), it is left alone.
    func abandon(exchange: Int?) {
        guard loop.inEventLoop else {
            loop.execute { self.abandon(exchange: exchange) }
            return
        }
        if let exchange {
            guard phase == .busy, exchangeNumber == exchange else { return }
        } else {
            guard phase == .connecting else { return }
        }
        fail(.cancelled)
    }

    /// Consuming, so a callee taking the response apart owns its header list outright.
    typealias ResponseCallback = (consuming Result<ClientResponse, HTTPClientError>) -> Void

    /// `response()` without a task: `callback` runs on the loop once the head has arrived and
    /// the bytes read with it are decoded (so a small body is complete), or on failure.
    func onResponse(_ callback: @escaping ResponseCallback) {
        guard phase == .busy else { callback(.failure(.connectionClosed)); return }
        headCallback = callback
    }

    /// Calls the response callback: with the response once its head came, else with `error`.
    /// Last thing a caller does, since the callback may start the next exchange on this very
    /// connection.
    func deliverResponse(orFail error: HTTPClientError?) {
        guard let callback = headCallback else { return }
        if let response = callbackResponse.take() {
            headCallback = nil
            callback(.success(consume response))
        } else if let error {
            headCallback = nil
            callback(.failure(error))
        }
    }

    /// The caller is done with the response of exchange `number`: a body not read to its end
    /// closes the connection. A later exchange on the same (pooled) connection is left alone.
    func abandon(exchange number: Int) {
        guard number == exchangeNumber else { return }
        if phase == .upgraded || (phase == .busy && !(responseEnded && requestEnded)) { close() }
    }
}
