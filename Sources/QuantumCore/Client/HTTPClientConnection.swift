import CQuantumLinux
import Glibc

/// One HTTP/1.1 connection to a server, confined to its event loop. It carries one exchange at
/// a time; once the request and the response have both ended cleanly and neither side asked to
/// close, it goes back to its pool for the next one.
final class HTTPClientConnection: LoopIOHandler, TickEndWork, BodySource, @unchecked Sendable {
    private enum Phase { case connecting, idle, busy, upgraded, closed }

    let fd: Int32
    /// Strong: an unowned reference costs an atomic liveness check on every use, and the
    /// loop's registration of this connection, the only way back, ends when it closes.
    let loop: EventLoop
    let key: String
    private let configuration: HTTPClient.Configuration
    /// Plain TCP, or TLS to an https server.
    private let transport: ConnectionTransport
    /// Strong, not weak: a weak reference would give the pool a side table and make every
    /// retain of it slower. Dropped on close; a pool that was shut down closes what comes back.
    @exclusivity(unchecked) private var pool: ClientPool?

    @exclusivity(unchecked) private var phase = Phase.connecting
    @exclusivity(unchecked) private var decoder: HTTP1Decoder
    @exclusivity(unchecked) private var out = OutboundQueue()
    @exclusivity(unchecked) private var connectWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) private var headWaiter: UnsafeContinuation<(ResponseHead, RequestBody), any Error>?
    /// The callback form of `headWaiter` (`onResponse`), called once this read has been decoded.
    @exclusivity(unchecked) private var headCallback: ResponseCallback?
    @exclusivity(unchecked) private var callbackResponse: ClientResponse?
    /// Inside a TLS session's `feed`, whose scratch space is the loop's read buffer.
    @exclusivity(unchecked) private var feeding = false
    @exclusivity(unchecked) private var head: ResponseHead?
    @exclusivity(unchecked) private var body: BodyStream?
    @exclusivity(unchecked) private var drainWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) private var timer: LoopTimer?
    @exclusivity(unchecked) private var requestEnded = false
    @exclusivity(unchecked) private var responseEnded = false
    @exclusivity(unchecked) private var requestKeepAlive = true
    @exclusivity(unchecked) private var receivedResponseBytes = false
    @exclusivity(unchecked) private var inputClosed = false
    @exclusivity(unchecked) private var writeBlocked = false
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var interest: UInt32 = EPOLLOUT.rawValue
    @exclusivity(unchecked) private var lastRead: UInt64 = 0
    @exclusivity(unchecked) private var lastWriteProgress: UInt64 = 0
    /// Exchanges completed on this connection (a reused connection may have gone stale).
    @exclusivity(unchecked) private(set) var completedExchanges = 0
    /// Numbers exchanges, so a response handle from an earlier one cannot touch a later one.
    @exclusivity(unchecked) private(set) var exchangeNumber = 0

    init(fd: Int32, loop: EventLoop, key: String, configuration: HTTPClient.Configuration, pool: ClientPool,
         transport: ConnectionTransport = .plain) {
        self.transport = transport
        self.fd = fd
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

    private nonisolated(nonsending) func connectOnce() async throws {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
            do {
                try loop.register(fd, handler: self, events: EventLoop.edgeTriggered(EPOLLOUT.rawValue))
            } catch {
                phase = .closed
                Glibc.close(fd)
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
        lastRead = loop.now
        lastWriteProgress = loop.now
        out.withTail(writeHead)
        scheduleFlush()
        updateInterest()
    }

    /// Queues request body bytes, suspending while the server reads slower than we send.
    nonisolated(nonsending) func writeBody(_ bytes: [UInt8]) async throws {
        guard phase == .busy || phase == .upgraded else { throw HTTPClientError.connectionClosed }
        out.append(bytes)
        scheduleFlush()
        guard out.pendingBytes >= BodyStream.highWatermark else { return }
        flush()
        guard phase != .closed else { throw HTTPClientError.connectionClosed }
        guard out.pendingBytes >= BodyStream.highWatermark else { return }
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
    private func deliverResponse(orFail error: HTTPClientError?) {
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

    // MARK: - LoopIOHandler

    func readable(_ events: IOEvents) {
        switch phase {
        case .closed: return
        case .connecting: connected(); return
        case .idle, .busy, .upgraded: break
        }
        let end = loop.readEdgeTriggered(fd, events, interest: interest,
                                         keepReading: { phase != .closed && !inputClosed && interest & EPOLLIN.rawValue != 0 }) { bytes in
            lastRead = loop.now
            guard case .tls(let session) = transport else { receivedPlain(bytes); return }
            let wasHandshaking = !session.handshakeDone
            // The response callback waits until the TLS session is done with the loop's buffer.
            feeding = true
            let status = session.feed(bytes, scratch: loop.readBuffer) { receivedPlain($0) }
            feeding = false
            deliverResponse(orFail: nil)
            guard phase != .closed else { return }
            switch status {
            case .open: flush()
            case .closed: inputEnded()
            case .failed:
                fail(wasHandshaking ? .connectFailed("TLS: " + (session.verificationFailure ?? "handshake failed")) : .connectionClosed)
            }
        }
        guard phase != .closed else { return }
        switch end {
        case .drained, .stopped, .budgetSpent: break
        case .endOfInput: inputEnded()
        case .failed: fail(phase == .busy && !receivedResponseBytes && completedExchanges > 0 ? .staleConnection : .connectionClosed)
        }
    }

    /// Bytes from the server (decrypted, over TLS).
    private func receivedPlain(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .idle: close()  // nothing is expected between exchanges
        case .upgraded: body?.push(Array(bytes)); updateInterest()
        case .busy:
            receivedResponseBytes = true
            decoder.append(bytes)
            process()
        default: break
        }
    }

    private func inputEnded() {
        inputClosed = true
        switch phase {
        case .idle: close()
        case .upgraded: body?.finish(); updateInterest()
        default:
            process()
            if let end = decoder.inputEnded() { handle(end) }
            if !responseEnded {
                fail(receivedResponseBytes || completedExchanges == 0 ? .connectionClosed : .staleConnection)
            } else {
                updateInterest()
            }
        }
    }

    func writable() {
        if phase == .connecting { connected(); return }
        flush()
    }

    func tick(now: UInt64) {
        switch phase {
        case .idle:
            if now &- lastRead > configuration.idleTimeout { close() }
        case .busy:
            if let t = configuration.writeTimeout, !out.isEmpty, now &- lastWriteProgress > t { fail(.ioTimeout); return }
            // Only while reading: a body reader holding back (back-pressure) is not a silent server.
            if let t = configuration.readTimeout, head != nil, !responseEnded, interest & EPOLLIN.rawValue != 0,
               now &- lastRead > t { fail(.ioTimeout) }
        default:
            break
        }
    }

    func tickEnd() {
        flushScheduled = false
        flush()
    }

    private func connected() {
        let err = Sockets.pendingError(fd)
        timer?.cancel()
        timer = nil
        if err != 0 {
            fail(.connectFailed(String(cString: strerror(err))))
            return
        }
        phase = .idle
        lastRead = loop.now
        // Over TLS the ClientHello goes now; requests queue until the handshake is done.
        if case .tls(let session) = transport {
            guard session.startHandshake() != .failed else { fail(.connectFailed("TLS: cannot start the handshake")); return }
            flush()
        }
        updateInterest()
        if let c = connectWaiter { connectWaiter = nil; c.resume() }
    }

    // MARK: - Response decoding

    private func process() {
        while phase == .busy {
            if let body, body.isOverHighWatermark { break }
            let event: HTTP1Decoder.Event?
            do { event = try decoder.next() } catch {
                fail(.malformedResponse(error.reason))
                return
            }
            guard let event else { break }
            handle(event)
        }
        updateInterest()
        if !feeding { deliverResponse(orFail: nil) }
    }

    private func handle(_ event: HTTP1Decoder.Event) {
        switch event {
        case .response(let h):
            timer?.cancel()
            timer = nil
            head = h
            var whole: [UInt8]?
            if h.status == 101 {
                // The connection now carries the upgraded protocol's raw bytes.
                phase = .upgraded
                let stream = BodyStream(loop: loop, source: self, knownLength: nil)
                body = stream
                let rest = decoder.takeRemaining()
                if !rest.isEmpty { stream.push(rest) }
                if inputClosed { stream.finish() }
            } else if headCallback != nil, case .length = h.framing, let taken = decoder.takeWholeBody() {
                whole = taken  // a small answer, all here: no stream for it
            } else {
                var length: Int?
                switch h.framing {
                case .none: length = 0
                case .length(let n): length = n
                case .chunked, .untilClose: length = nil
                }
                body = BodyStream(loop: loop, source: self, knownLength: length)
            }
            if let w = headWaiter { headWaiter = nil; w.resume(returning: (h, RequestBody(stream: body))) }
            if headCallback != nil {
                callbackResponse = ClientResponse(status: h.status, reason: h.reason, headers: h.headers, fieldBlock: h.fieldBlock,
                                                  body: RequestBody(stream: body), completeBody: whole, connection: self,
                                                  exchange: exchangeNumber)
            }
            if whole != nil {
                // The exchange is over with its head.
                responseEnded = true
                finishExchangeIfDone()
            }
        case .body(let bytes):
            body?.push(bytes)
        case .end(let trailers):
            guard phase == .busy else { return }
            if !trailers.isEmpty { body?.trailers = trailers }
            body?.finish()
            responseEnded = true
            finishExchangeIfDone()
        case .head:
            break  // a response decoder yields no requests
        }
    }

    /// Both directions ended: back to the pool, or closed.
    private func finishExchangeIfDone() {
        guard phase == .busy, responseEnded else { return }
        guard requestEnded else {
            // The server answered before reading the whole request (an early 413, say): the
            // rest of the request cannot be skipped on this connection.
            close()
            return
        }
        completedExchanges += 1
        let reusable = configuration.keepAlive && requestKeepAlive && (head?.keepAlive ?? false)
            && !inputClosed && out.isEmpty && decoder.bufferedByteCount == 0
        head = nil
        body = nil
        guard reusable, let pool else { close(); return }
        phase = .idle
        lastRead = loop.now
        updateInterest()
        pool.checkIn(self)
    }

    // MARK: - BodySource

    func bodyReaderWaiting(_ stream: BodyStream) { resumeReading() }
    func bodyDrained(_ stream: BodyStream) { resumeReading() }

    private func resumeReading() {
        if phase == .busy { process() } else { updateInterest() }
    }

    // MARK: - Output

    /// Writes raw bytes of an upgraded connection.
    nonisolated(nonsending) func writeUpgraded(_ bytes: [UInt8]) async throws {
        guard phase == .upgraded else { throw HTTPClientError.connectionClosed }
        try await writeBody(bytes)
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.atTickEnd(self)
    }

    private func flush() {
        guard phase != .closed, phase != .connecting else { return }
        let before = out.pendingBytes
        switch transport.write(&out, to: fd) {
        case .drained:
            writeBlocked = false
            lastWriteProgress = loop.now
            if let w = drainWaiter { drainWaiter = nil; w.resume() }
        case .blocked:
            writeBlocked = true
            if out.pendingBytes != before { lastWriteProgress = loop.now }
            if out.pendingBytes < BodyStream.lowWatermark, let w = drainWaiter { drainWaiter = nil; w.resume() }
        case .failed:
            fail(phase == .busy && !receivedResponseBytes && completedExchanges > 0 ? .staleConnection : .connectionClosed)
            return
        }
        updateInterest()
    }

    private func updateInterest() {
        guard phase != .closed else { return }
        var wanted: UInt32 = 0
        if phase == .connecting || writeBlocked { wanted |= EPOLLOUT.rawValue }
        if phase != .connecting && !inputClosed && !(body?.isOverHighWatermark ?? false) { wanted |= EPOLLIN.rawValue }
        if wanted != interest {
            // Reading resumes: the server's silence counts from now.
            if wanted & EPOLLIN.rawValue != 0 && interest & EPOLLIN.rawValue == 0 { lastRead = loop.now }
            interest = wanted
            loop.modify(fd, events: EventLoop.edgeTriggered(wanted))
        }
    }

    // MARK: - Lifecycle

    private func fail(_ error: HTTPClientError) {
        guard phase != .closed else { return }
        let c = connectWaiter, h = headWaiter, d = drainWaiter, callback = headCallback, early = callbackResponse.take()
        connectWaiter = nil; headWaiter = nil; drainWaiter = nil; headCallback = nil
        body?.fail(error)
        close()
        c?.resume(throwing: error)
        h?.resume(throwing: error)
        d?.resume(throwing: error)
        if let callback { callback(early.map { .success($0) } ?? .failure(error)) }
    }

    func close() {
        loop.assertInEventLoop()
        guard phase != .closed else { return }
        let wasIdle = phase == .idle
        if phase != .connecting { transport.closing() }
        phase = .closed
        timer?.cancel()
        timer = nil
        loop.deregister(fd)
        Glibc.close(fd)
        out = OutboundQueue()
        body?.fail(HTTPClientError.connectionClosed)
        body = nil  // the stream holds its source strongly: no cycle left behind
        if let c = connectWaiter { connectWaiter = nil; c.resume(throwing: HTTPClientError.connectionClosed) }
        if let h = headWaiter { headWaiter = nil; h.resume(throwing: HTTPClientError.connectionClosed) }
        if let d = drainWaiter { drainWaiter = nil; d.resume(throwing: HTTPClientError.connectionClosed) }
        if wasIdle { pool?.remove(self) }
        pool = nil
        deliverResponse(orFail: .connectionClosed)
    }
}
