import CQuantumLinux
import Glibc

/// One HTTP/1.1 connection on its loop: the read path parses synchronously and hands request
/// heads to one long-lived task, which runs the handler chain and writes responses in order.
/// The read path is here; the task (`+Task`), the fast path and promises (`+Inline`), and output
/// and the end of the connection (`+Output`) are in sibling files, so members are module-internal:
/// nothing outside this type's files touches them.
/// `@unchecked Sendable`: loop-confined; producers and promises on other threads hop to the loop
/// (`writeBodyBytes`, `settle`).
final class HTTP1Connection: LoopIOHandler, BodySource, TickEndWork, ServerConnection, PromiseOwner, @unchecked Sendable {
    enum Pending {
        case request(RequestHead, BodyStream?)
        /// A request whose synchronous run stopped: the task runs the rest.
        case resume(RequestHead, Resumption)
        /// An answer given without a task that still needs one (a streamed body, an upgrade).
        case answer(RequestHead, Response)
        case parseError(HTTP1ParseError)
    }

    /// Where the connection is in its life. Each step only goes forward (`advance`).
    enum Lifecycle: Comparable {
        /// Taking requests.
        case serving
        /// The server is stopping: the request in hand is finished, no other is taken.
        case shuttingDown
        /// Its last bytes are going out; the socket closes once they are written.
        case finishing
        /// The socket is closed, or was handed to HTTP/2.
        case closed
    }

    /// What the peer's bytes are for.
    enum InputMode {
        /// Requests, decoded as they arrive.
        case requests
        /// A request asked to switch protocols: reading waits for its handler's answer.
        case awaitingUpgrade
        /// Nothing more is read: a malformed request, or an answer that ends the connection.
        case stopped
        /// The connection switched protocols: the bytes are the upgraded stream's.
        case upgraded(UpgradedStream)
    }

    var isClosed: Bool { lifecycle == .closed }
    var shuttingDown: Bool { lifecycle >= .shuttingDown }
    var upgraded: UpgradedStream? {
        if case .upgraded(let stream) = input { return stream }
        return nil
    }

    func advance(to next: Lifecycle) {
        if lifecycle < next { lifecycle = next }
    }

    /// The socket (and its TLS session), its output queue and its epoll interest.
    let io: SocketTransport
    /// Strong: an unowned reference costs an atomic liveness check on every use, and the
    /// loop's registration of this connection, the only way back, ends when it closes.
    let loop: EventLoop
    /// The routes and limits this connection serves with: its listener's at accept, then the
    /// listener's current one whenever a request arrives with nothing else in hand (`adoptCurrentRuntime`).
    @exclusivity(unchecked) var runtime: ServerRuntime
    let runtimes: RuntimeSlot
    let info: ConnectionInfo
    let owner: ConnectionRegistry

    @exclusivity(unchecked) var decoder: HTTP1Decoder
    @exclusivity(unchecked) var queue: [Pending] = []
    @exclusivity(unchecked) var queueHead = 0
    @exclusivity(unchecked) var receivingBody: BodyStream?
    @exclusivity(unchecked) var waiter: UnsafeContinuation<Pending?, Never>?
    @exclusivity(unchecked) var drainWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) var inputClosed = false
    @exclusivity(unchecked) var lifecycle = Lifecycle.serving
    @exclusivity(unchecked) var input = InputMode.requests
    @exclusivity(unchecked) var continueSent = false
    @exclusivity(unchecked) var expectContinueBody: BodyStream?
    @exclusivity(unchecked) var claimedUpgrade: Upgrade?
    /// Offered to the synchronous chain (made on first use).
    @exclusivity(unchecked) var deferralOffer: DeferralOffer?
    /// The promise of a request answered later (`DeferralOffer`), by identity: the promise holds
    /// this connection until settled, not the other way round, so one dropped unsettled goes
    /// away and hands the request back. Decoding pauses meanwhile.
    @exclusivity(unchecked) var promised: ObjectIdentifier?
    @exclusivity(unchecked) var promisedHead: RequestHead?
    /// What runs if the promise is handed back.
    @exclusivity(unchecked) var promisedRest: Resumption?
    /// Settled while the chain that took it was still running.
    @exclusivity(unchecked) var earlyOutcome: PromiseOutcome?
    // Timekeeping (monotonic ns; the last read and write are the transport's).
    @exclusivity(unchecked) var headStarted: UInt64
    /// The peer has sent something: until then the wait is timed like a request head (from
    /// accept), not as an idle keep-alive connection.
    @exclusivity(unchecked) var receivedAny = false
    @exclusivity(unchecked) var bodyStarted: UInt64 = 0

    static let maxPipelined = 32

    /// A connection whose protocol is known to be HTTP/1 (`ProtocolSelector`); `since` is when
    /// it was accepted (a TLS handshake is timed like a request head).
    init(io: SocketTransport, runtimes: RuntimeSlot, info: ConnectionInfo, owner: ConnectionRegistry, since: UInt64) {
        self.io = io
        loop = io.loop
        self.runtimes = runtimes
        let runtime = runtimes.current
        self.runtime = runtime
        self.info = info
        self.owner = owner
        decoder = HTTP1Decoder(limits: runtime.limits.http1)
        headStarted = since
    }

    /// Starts the connection's task and serves `initial`, what was read while the protocol was
    /// being chosen. Call on the loop once the socket's readiness reaches this connection.
    func start(initial: [UInt8] = []) {
        if !initial.isEmpty {
            initial.withUnsafeBytes { received($0) }
            decodeOnceWaiting = true  // as the next bytes are: with the task waiting (the fast path, h2c)
        }
        Task(executorPreference: loop) { await self.serve() }
    }

    /// `initial` waits in the decoder for the task's first wait.
    @exclusivity(unchecked) var decodeOnceWaiting = false

    /// Tells the handlers of the request in hand when its client stops waiting (the task's own
    /// cancellation would outlast the request: it is the connection's one task).
    let departure = ClientDeparture()
    /// What the handler holding the promised answer wants done if the client stops waiting.
    @exclusivity(unchecked) var promiseClientGone: (() -> Void)?

    // MARK: - Read path

    func readable(_ events: IOEvents) {
        guard !isClosed else { return }
        let end = io.read(events, keepReading: { !isClosed && io.isReading }) { bytes in
            received(bytes)
            // An upgraded stream stops the reading once its handler has enough unread bytes.
            if upgraded == nil { process() } else { updateInterest() }
        }
        if let tls = io.tls, tls.pendingBytes > 0 { scheduleFlush() }  // TLS's own replies
        switch end {
        case .drained, .stopped, .budgetSpent: break
        case .endOfInput: inputEnded()
        case .failed: close()
        }
    }

    /// Bytes from the peer (decrypted, over TLS): to the upgraded stream or the decoder.
    func received(_ bytes: UnsafeRawBufferPointer) {
        if let upgraded {
            upgraded.received(Array(bytes))
            return
        }
        receivedAny = true  // plaintext: a TLS handshake alone is not a request begun
        if decoder.isIdle { headStarted = io.lastRead }
        decoder.append(bytes)
    }

    /// The peer may still be owed answers: its input is open, or requests it sent before it
    /// closed it are still here (pipelined requests and then a half-close all get answered).
    var peerAwaitsMore: Bool { !inputClosed || decoder.bufferedByteCount > 0 || queueHead < queue.count }

    func inputEnded() {
        inputClosed = true
        receivingBody?.fail(HTTPError(400, "connection closed before the body ended"))
        upgraded?.received(nil)
        // A deferred answer still goes out (then the connection ends).
        if promised == nil, let w = waiter { waiter = nil; w.resume(returning: nil) }
        // With nothing more to answer after the request in hand, the client has stopped
        // waiting for it as far as Caddy and nginx are concerned: work done only on its behalf
        // (an upstream that may never answer) is told to stop. Pipelined requests read before
        // the FIN are still answered in turn.
        if nothingQueued { clientStoppedWaiting() }
        updateInterest()
    }

    var nothingQueued: Bool { queueHead == queue.count && decoder.bufferedByteCount == 0 }

    /// The request in hand's client left: the promise's handler, or those watching `departure`,
    /// are told. An answer already being written goes on (a client that half-closed may still
    /// read it).
    func clientStoppedWaiting() {
        if let gone = promiseClientGone {
            promiseClientGone = nil
            gone()
        }
        departure.depart()
    }

    /// Output not yet on the socket: queued, plus TLS records already encrypted.
    var pendingOutput: Int { io.pendingBytes }

    /// Decodes buffered input while nothing asks to pause.
    func process() {
        while !isClosed, case .requests = input, promised == nil {
            if let body = receivingBody, body.isOverHighWatermark { break }
            if queue.count - queueHead >= Self.maxPipelined { break }
            // Answers the peer is not reading back up here: stop reading its requests too.
            if pendingOutput >= BodyStream.highWatermark { break }
            // Bound straight from the call: an event stored and bound later is copied, head and all.
            guard let event = nextEvent() else { break }
            switch consume event {
            case .head(var head):
                adoptCurrentRuntime()
                var stream: BodyStream?
                switch head.framing {
                case .none: decoder.skipEndOfBodilessHead()
                case .length(let n): stream = BodyStream(loop: loop, source: self, knownLength: n)
                case .chunked: stream = BodyStream(loop: loop, source: self, knownLength: nil)
                }
                if stream == nil && !head.hasUpgrade {
                    guard let unanswered = answerInline(consume head) else { continue }
                    head = unanswered
                }
                if head.hasUpgrade && runtime.protocols.h2c && waiter != nil && queueHead == queue.count,
                   io.tls == nil, let upgrade = HTTP2Upgrade(head) {
                    switchToHTTP2(initial: decoder.takeRemaining(), upgrade: upgrade)
                    return
                }
                receivingBody = stream
                bodyStarted = io.lastRead
                if head.expectContinue, stream != nil { expectContinueBody = stream; continueSent = false }
                if head.hasUpgrade { input = .awaitingUpgrade }
                enqueue(.request(head, stream))
            case .response:
                break  // a request decoder yields no responses
            case .body(let bytes):
                receivingBody?.push(bytes)
            case .end(let trailers):
                if !trailers.isEmpty { receivingBody?.trailers = trailers }
                receivingBody?.finish()
                receivingBody = nil
            }
        }
        updateInterest()
    }

    /// The decoder's next event; nil when it needs more bytes or failed (the error is then
    /// queued for the task to answer).
    func nextEvent() -> HTTP1Decoder.Event? {
        do {
            return try decoder.next()
        } catch {
            input = .stopped
            receivingBody?.fail(HTTPError(error.status, error.reason))
            enqueue(.parseError(error))
            return nil
        }
    }

    // MARK: - Switching to HTTP/2

    /// `Upgrade: h2c`: hands the socket to an HTTP/2 connection that answers the request that
    /// asked; this one lets go of it without closing it, and its task ends.
    func switchToHTTP2(initial: [UInt8], upgrade: HTTP2Upgrade) {
        guard let h2 = HTTP2Connection(io: io, runtimes: runtimes, info: info, owner: owner) else {
            close()
            return
        }
        lifecycle = .closed
        handOver(io, to: h2, owner: owner)
        if let w = waiter { waiter = nil; w.resume(returning: nil) }
        h2.start(initial: initial, upgrade: upgrade)
    }

    /// A reload's routes reach a keep-alive connection at its next request: taken only with
    /// nothing else in hand (no request queued, running or promised), and only when the new
    /// runtime speaks the same transport (a listener turned from HTTP to HTTPS keeps serving
    /// its plaintext connections as they were until they end).
    func adoptCurrentRuntime() {
        let current = runtimes.current
        guard current !== runtime, waiter != nil, queueHead == queue.count, promised == nil,
              (current.tls == nil) == (runtime.tls == nil) else { return }
        runtime = current
    }

    func enqueue(_ p: Pending) {
        if let w = waiter {
            waiter = nil
            w.resume(returning: p)
        } else {
            queue.append(p)
        }
    }

    func updateInterest() {
        guard !isClosed else { return }
        // Waiting for a deferred answer reads on (changing epoll interest costs two syscalls per
        // request) until a backlog of undecoded bytes builds up.
        let reading: Bool
        switch input {
        case .requests:
            reading = !(promised != nil && decoder.bufferedByteCount >= BodyStream.highWatermark)
                && !(receivingBody?.isOverHighWatermark ?? false)
                && queue.count - queueHead < Self.maxPipelined
                && pendingOutput < BodyStream.highWatermark
        case .awaitingUpgrade, .stopped:
            reading = false
        case .upgraded(let stream):
            reading = !stream.readPaused
        }
        // EPOLLOUT only after a write would block: queued output is flushed at the tick's end.
        io.want(reading: !inputClosed && reading)
    }

    // MARK: - BodySource

    func bodyReaderWaiting(_ stream: BodyStream) {
        loop.assertInEventLoop()
        if stream === expectContinueBody && !continueSent {
            continueSent = true
            io.out.append("HTTP/1.1 100 Continue\r\n\r\n")
            scheduleFlush()
        }
        process()
    }

    func bodyDrained(_ stream: BodyStream) {
        loop.assertInEventLoop()
        if stream === receivingBody { process() }
    }
}
