import CQuantumLinux
import Glibc

/// One HTTP/1.1 connection on its loop: the read path parses synchronously and hands request
/// heads to one long-lived task, which runs the handler chain and writes responses in order.
/// `@unchecked Sendable`: loop-confined; producers and promises on other threads hop to the loop
/// (`writeBodyBytes`, `settle`).
final class HTTP1Connection: LoopIOHandler, BodySource, TickEndWork, ServerConnection, PromiseOwner, @unchecked Sendable {
    private enum Pending {
        case request(RequestHead, BodyStream?)
        /// A request whose synchronous run stopped: the task runs the rest.
        case resume(RequestHead, Resumption)
        /// An answer given without a task that still needs one (a streamed body, an upgrade).
        case answer(RequestHead, Response)
        case parseError(HTTP1ParseError)
    }

    let fd: Int32
    /// Strong: an unowned reference costs an atomic liveness check on every use, and the
    /// loop's registration of this connection, the only way back, ends when it closes.
    let loop: EventLoop
    /// The routes and limits this connection serves with: its listener's at accept, then the
    /// listener's current one whenever a request arrives with nothing else in hand (`adoptCurrentRuntime`).
    @exclusivity(unchecked) private(set) var runtime: ServerRuntime
    private let runtimes: RuntimeSlot
    /// Gains its TLS facts when the handshake completes.
    @exclusivity(unchecked) private(set) var info: ConnectionInfo
    private let transport: ConnectionTransport
    private let owner: ConnectionRegistry

    @exclusivity(unchecked) private var decoder: HTTP1Decoder
    @exclusivity(unchecked) private var queue: [Pending] = []
    @exclusivity(unchecked) private var queueHead = 0
    @exclusivity(unchecked) private var receivingBody: BodyStream?
    @exclusivity(unchecked) private var waiter: UnsafeContinuation<Pending?, Never>?
    @exclusivity(unchecked) private var out = OutboundQueue()
    @exclusivity(unchecked) private var drainWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var writeBlocked = false
    @exclusivity(unchecked) private var interest: UInt32 = EPOLLIN.rawValue
    @exclusivity(unchecked) private var inputClosed = false
    @exclusivity(unchecked) private(set) var isClosed = false
    @exclusivity(unchecked) private var parseFailed = false
    @exclusivity(unchecked) private var awaitingUpgradeDecision = false
    @exclusivity(unchecked) private var closeWhenDrained = false
    @exclusivity(unchecked) private var shuttingDown = false
    @exclusivity(unchecked) private var continueSent = false
    @exclusivity(unchecked) private var expectContinueBody: BodyStream?
    @exclusivity(unchecked) private var upgraded: UpgradedStream?
    @exclusivity(unchecked) private var claimedUpgrade: Upgrade?
    /// Offered to the synchronous chain (made on first use).
    @exclusivity(unchecked) private var deferralOffer: DeferralOffer?
    /// The promise of a request answered later (`DeferralOffer`), by identity: the promise holds
    /// this connection until settled, not the other way round, so one dropped unsettled goes
    /// away and hands the request back. Decoding pauses meanwhile.
    @exclusivity(unchecked) private var promised: ObjectIdentifier?
    @exclusivity(unchecked) private var promisedHead: RequestHead?
    /// What runs if the promise is handed back.
    @exclusivity(unchecked) private var promisedRest: Resumption?
    /// Settled while the chain that took it was still running.
    @exclusivity(unchecked) private var earlyOutcome: PromiseOutcome?
    /// h2c by prior knowledge: the first bytes are checked for the HTTP/2 client preface.
    @exclusivity(unchecked) private var checkPreface: Bool
    // Timekeeping (monotonic ns).
    @exclusivity(unchecked) private var lastRead: UInt64
    @exclusivity(unchecked) private var headStarted: UInt64 = 0
    /// The peer has sent something: until then the wait is timed like a request head (from
    /// accept), not as an idle keep-alive connection.
    @exclusivity(unchecked) private var receivedAny = false
    @exclusivity(unchecked) private var bodyStarted: UInt64 = 0
    @exclusivity(unchecked) private var lastWriteProgress: UInt64 = 0

    static let maxPipelined = 32

    init(fd: Int32, loop: EventLoop, runtimes: RuntimeSlot, info: ConnectionInfo, owner: ConnectionRegistry,
         transport: ConnectionTransport = .plain) {
        self.fd = fd
        self.loop = loop
        self.runtimes = runtimes
        let runtime = runtimes.current
        self.runtime = runtime
        self.info = info
        self.transport = transport
        self.owner = owner
        decoder = HTTP1Decoder(limits: runtime.limits.http1)
        if case .plain = transport { checkPreface = runtime.protocols.h2c } else { checkPreface = false }
        lastRead = SystemClock.monotonicNanos()
        headStarted = lastRead  // a TLS handshake is timed like a request head
    }

    /// Starts the connection's task; call on the loop after registering the fd.
    func start() {
        Task(executorPreference: loop) { await self.serve() }
    }

    /// Tells the handlers of the request in hand when its client stops waiting (the task's own
    /// cancellation would outlast the request: it is the connection's one task).
    private let departure = ClientDeparture()
    /// What the handler holding the promised answer wants done if the client stops waiting.
    @exclusivity(unchecked) private var promiseClientGone: (() -> Void)?

    // MARK: - Read path

    func readable(_ events: IOEvents) {
        guard !isClosed else { return }
        let end = loop.readEdgeTriggered(fd, events, interest: interest,
                                         keepReading: { !isClosed && interest & EPOLLIN.rawValue != 0 }) { bytes in
            lastRead = loop.now
            if case .tls(let session) = transport { receiveTLS(bytes, session); return }
            received(bytes)
            if checkPreface && awaitPreface() { return }
            // An upgraded stream stops the reading once its handler has enough unread bytes.
            if upgraded == nil { process() } else { updateInterest() }
        }
        switch end {
        case .drained, .stopped, .budgetSpent: break
        case .endOfInput: inputEnded()
        case .failed: close()
        }
    }

    /// Bytes from the peer (decrypted, over TLS): to the upgraded stream or the decoder.
    private func received(_ bytes: UnsafeRawBufferPointer) {
        if let upgraded {
            upgraded.received(Array(bytes))
            return
        }
        receivedAny = true  // plaintext: a TLS handshake alone is not a request begun
        if decoder.isIdle { headStarted = lastRead }
        decoder.append(bytes)
    }

    /// The peer may still be owed answers: its input is open, or requests it sent before it
    /// closed it are still here (pipelined requests and then a half-close all get answered).
    private var peerAwaitsMore: Bool { !inputClosed || decoder.bufferedByteCount > 0 || queueHead < queue.count }

    private func inputEnded() {
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

    private var nothingQueued: Bool { queueHead == queue.count && decoder.bufferedByteCount == 0 }

    /// The request in hand's client left: the promise's handler, or those watching `departure`,
    /// are told. An answer already being written goes on (a client that half-closed may still
    /// read it).
    private func clientStoppedWaiting() {
        if let gone = promiseClientGone {
            promiseClientGone = nil
            gone()
        }
        departure.depart()
    }

    /// Ciphertext in: the handshake advances, plaintext goes where plain bytes go.
    private func receiveTLS(_ ciphertext: UnsafeRawBufferPointer, _ session: TLSSession) {
        let handshaking = !session.handshakeDone
        let status = session.feed(ciphertext, scratch: loop.readBuffer) { received($0) }
        if handshaking, let tls = session.info {
            info = info.with(tls: tls)
            if tls.applicationProtocol == "h2", case .open = status {
                switchToHTTP2(initial: decoder.takeRemaining(), upgrade: nil)
                return
            }
        }
        if session.pendingBytes > 0 { scheduleFlush() }
        switch status {
        case .open:
            if upgraded == nil { process() } else { updateInterest() }
        case .closed:
            if upgraded == nil { process() }
            inputEnded()
        case .failed:
            close()
        }
    }

    /// Output not yet on the socket: queued, plus TLS records already encrypted.
    private var pendingOutput: Int { out.pendingBytes + transport.bufferedBytes }

    /// Decodes buffered input while nothing asks to pause.
    private func process() {
        while !isClosed && !parseFailed && !awaitingUpgradeDecision && promised == nil && upgraded == nil {
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
                   case .plain = transport, let upgrade = HTTP2Upgrade(head) {
                    switchToHTTP2(initial: decoder.takeRemaining(), upgrade: upgrade)
                    return
                }
                receivingBody = stream
                bodyStarted = lastRead
                if head.expectContinue, stream != nil { expectContinueBody = stream; continueSent = false }
                if head.hasUpgrade { awaitingUpgradeDecision = true }
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
    private func nextEvent() -> HTTP1Decoder.Event? {
        do {
            return try decoder.next()
        } catch {
            parseFailed = true
            receivingBody?.fail(HTTPError(error.status, error.reason))
            enqueue(.parseError(error))
            return nil
        }
    }

    // MARK: - Switching to HTTP/2

    /// While the first bytes could still be the HTTP/2 preface: true when they are (the
    /// connection switched, or waits for the rest of it), false once they cannot be.
    private func awaitPreface() -> Bool {
        let pending = decoder.undecoded
        let preface = HTTP2Upgrade.preface
        let n = min(pending.count, preface.count)
        guard pending.prefix(n).elementsEqual(preface.prefix(n)) else { checkPreface = false; return false }
        if n < preface.count { return true }
        checkPreface = false
        switchToHTTP2(initial: decoder.takeRemaining(), upgrade: nil)
        return true
    }

    /// Hands the socket (and its TLS session) to an HTTP/2 connection; this one lets go of it
    /// without closing it, and its task ends.
    private func switchToHTTP2(initial: [UInt8], upgrade: HTTP2Upgrade?) {
        guard let h2 = HTTP2Connection(fd: fd, loop: loop, runtimes: runtimes, info: info, owner: owner, transport: transport) else {
            close()
            return
        }
        isClosed = true
        owner.remove(self)
        owner.add(h2)
        loop.replaceHandler(fd, with: h2, events: EPOLLIN.rawValue)
        if let w = waiter { waiter = nil; w.resume(returning: nil) }
        h2.start(initial: initial, upgrade: upgrade)
    }

    /// A reload's routes reach a keep-alive connection at its next request: taken only with
    /// nothing else in hand (no request queued, running or promised), and only when the new
    /// runtime speaks the same transport (a listener turned from HTTP to HTTPS keeps serving
    /// its plaintext connections as they were until they end).
    private func adoptCurrentRuntime() {
        let current = runtimes.current
        guard current !== runtime, waiter != nil, queueHead == queue.count, promised == nil,
              (current.tls == nil) == (runtime.tls == nil) else { return }
        runtime = current
    }

    private func enqueue(_ p: Pending) {
        if let w = waiter {
            waiter = nil
            w.resume(returning: p)
        } else {
            queue.append(p)
        }
    }

    func updateInterest() {
        guard !isClosed else { return }
        var wanted: UInt32 = 0
        // Waiting for a deferred answer reads on (changing epoll interest costs two syscalls per
        // request) until a backlog of undecoded bytes builds up.
        let paused = parseFailed || awaitingUpgradeDecision
            || (promised != nil && decoder.bufferedByteCount >= BodyStream.highWatermark)
            || (receivingBody?.isOverHighWatermark ?? false)
            || queue.count - queueHead >= Self.maxPipelined
            || pendingOutput >= BodyStream.highWatermark
        if !inputClosed && (upgraded.map { !$0.readPaused } ?? !paused) { wanted |= EPOLLIN.rawValue }
        // EPOLLOUT only after a write would block: queued output is flushed at the tick's end.
        if writeBlocked { wanted |= EPOLLOUT.rawValue }
        if wanted != interest {
            interest = wanted
            loop.modify(fd, events: EventLoop.edgeTriggered(wanted))
        }
    }

    // MARK: - BodySource

    func bodyReaderWaiting(_ stream: BodyStream) {
        if stream === expectContinueBody && !continueSent {
            continueSent = true
            out.append("HTTP/1.1 100 Continue\r\n\r\n")
            scheduleFlush()
        }
        process()
    }

    func bodyDrained(_ stream: BodyStream) {
        if stream === receivingBody { process() }
    }

    // MARK: - The connection task

    private nonisolated(nonsending) func nextPending() async -> Pending? {
        if queueHead < queue.count {
            let p = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count { queue.removeAll(keepingCapacity: true); queueHead = 0 }
            if queue.count - queueHead == Self.maxPipelined - 1 { process() }
            return p
        }
        if isClosed || inputClosed || shuttingDown { return nil }
        return await withUnsafeContinuation { c in waiter = c }
    }

    private nonisolated(nonsending) func serve() async {
        while let pending = await nextPending() {
            let keepGoing: Bool
            switch pending {
            case .parseError(let error):
                writeErrorAndClose(error)
                return
            case .request(let head, let stream):
                keepGoing = await handle(head, stream)
            case .resume(let head, let rest):
                keepGoing = await handle(head, nil, rest: rest)
            case .answer(let head, let response):
                keepGoing = await handle(head, nil, answer: response)
            }
            if claimedUpgrade != nil { break }
            if !keepGoing || isClosed { finish(); return }
        }
        // Run a claimed upgrade here, out of the request's scope, so the request, its response
        // and their headers are not kept alive for the upgraded connection's whole life.
        if let upgrade = claimedUpgrade {
            claimedUpgrade = nil
            await runUpgrade(upgrade)
            return
        }
        finish()
    }

    /// Runs one request (or the `rest` of one whose synchronous run stopped, or writes the
    /// `answer` it already has); returns whether the connection stays open for the next one.
    private nonisolated(nonsending) func handle(_ head: RequestHead, _ stream: BodyStream?, rest: Resumption? = nil,
                                                answer: Response? = nil) async -> Bool {
        var response: Response
        if let answer {
            response = answer
        } else {
            // A FIN that came with this request, nothing after it: its client has left already.
            departure.begin(departed: isClosed || (inputClosed && nothingQueued))
            if let rest {
                response = (try? await rest()) ?? Response(status: 500)  // (the runtime's rest does not throw)
            } else {
                var context = Context(loop: loop)
                context.departure = departure
                response = await runtime.respond(makeRequest(head, stream), context: context)
            }
            departure.begin(departed: false)  // what was watching is done
        }
        if response.abort { close(); return false }
        if let failure = stream?.failure as? HTTPError, failure.status != 499 {
            // The body turned out malformed: that, not the handler's answer, is the response.
            writeErrorAndClose(HTTP1ParseError(failure.status, failure.message))
            return false
        }
        let isUpgrade = response.status == 101 && response.upgrade != nil
        if awaitingUpgradeDecision && !isUpgrade {
            awaitingUpgradeDecision = false
            process()
        }
        if response.status == 101 && response.upgrade == nil { response.status = 500 }
        // A streamed response may still read the rest of the request body (an echo, a proxy):
        // for it, whether the body was consumed is known only after the stream has run.
        var streams = false
        if case .stream = response.body { streams = true }
        let bodyComplete = stream == nil || stream!.isFinished
        let keepAlive = head.keepAlive && !response.closeConnection && !shuttingDown && (bodyComplete || streams) && peerAwaitsMore
        do {
            try await write(response, isHead: head.isHead, minorVersion: head.minorVersion, keepAlive: keepAlive || isUpgrade)
        } catch is AnswerReplaced {
            return false  // its 502 goes out, then the connection ends
        } catch {
            close()
            return false
        }
        let bodyConsumed = stream == nil || (stream!.isFinished && stream!.failure == nil)
        if let stream, !stream.isFinished { stream.discard() } else { stream?.discard() }
        if isUpgrade, let upgrade = response.upgrade {
            claimedUpgrade = upgrade  // `serve` runs it once this request's frame is gone
            return false
        }
        return keepAlive && bodyConsumed && peerAwaitsMore
    }

    private nonisolated(nonsending) func runUpgrade(_ upgrade: Upgrade) async {
        let stream = UpgradedStream(connection: self)
        upgraded = stream
        awaitingUpgradeDecision = false
        let leftover = decoder.takeRemaining()
        if !leftover.isEmpty { stream.received(leftover) }
        if inputClosed { stream.received(nil) }
        updateInterest()
        do { try await upgrade.run(stream) } catch {}
        finish()
    }

    private func writeErrorAndClose(_ error: HTTP1ParseError) {
        let date = loop.dateHeader
        out.withTail { HTTP1ResponseEncoder.appendError(error.status, date: date, to: &$0) }
        finish()
    }

    /// Ends the connection once pending output is written.
    func finish() {
        closeWhenDrained = true
        if pendingOutput == 0 { close() } else { scheduleFlush() }
    }

    // MARK: - Write path

    private nonisolated(nonsending) func write(_ response: Response, isHead: Bool, minorVersion: Int, keepAlive: Bool) async throws {
        let mark = out.appendedBytes
        let framing = appendHead(response, isHead: isHead, minorVersion: minorVersion, keepAlive: keepAlive)
        if !framing.bodyWritten {
            switch response.body {
            case .empty: break
            case .bytes(let b): out.append(b)
            case .file(let region): out.append(region)
            case .stream(let length, let producer):
                let writer = HTTP1BodyWriter(connection: self, chunked: framing.chunked, declaredLength: length)
                do {
                    try await producer(writer)
                    try await writer.finishBody()
                } catch {
                    // Nothing of this answer has gone out yet (an upstream's body broke at
                    // once): the client gets a 502 rather than a connection cut without a word.
                    guard !isClosed, out.removeLast(out.appendedBytes - mark) else { throw error }
                    writeErrorAndClose(HTTP1ParseError(502, "the response body failed before it began: \(error)"))
                    throw AnswerReplaced()
                }
            }
        }
        scheduleFlush()
        if framing.closeAfter { closeWhenDrained = true }
        try await waitForDrainIfNeeded(threshold: BodyStream.highWatermark)
    }

    /// A response that failed before any of it was written was replaced by an error answer.
    private struct AnswerReplaced: Error {}

    /// Serialises the status line and headers (and a small body) into the output queue.
    private func appendHead(_ response: Response, isHead: Bool, minorVersion: Int, keepAlive: Bool) -> HTTP1ResponseEncoder.Framing {
        let framing = HTTP1ResponseEncoder.framing(of: response, isHead: isHead, minorVersion: minorVersion, keepAlive: keepAlive)
        let date = loop.dateHeader
        out.withTail { HTTP1ResponseEncoder.appendHead(response, framing: framing, minorVersion: minorVersion, date: date, to: &$0) }
        return framing
    }

    /// The synchronous fast path: runs a bodiless request's routes on the read path when the
    /// connection's task is idle. The answer is written now; a run that stopped goes to the task
    /// to finish from where it stopped, or waits for the answer a handler promised
    /// (`DeferralOffer`). Takes the head (a promise keeps it without a copy) and gives it back
    /// when the request is to start over in the task (the connection is shutting down or busy).
    private func answerInline(_ head: consuming RequestHead) -> RequestHead? {
        guard waiter != nil, queueHead == queue.count, !shuttingDown else { return head }
        let offer = deferralOffer ?? DeferralOffer(owner: self)
        deferralOffer = offer
        offer.isOpen = true
        let result = runtime.respondInline(makeRequest(head, nil), context: Context(loop: loop, deferral: offer, departure: departure))
        offer.isOpen = false
        switch result {
        case .suspended(let rest):
            if promised != nil {
                promisedHead = consume head
                promisedRest = rest
                if let outcome = earlyOutcome.take() { apply(outcome) }
            } else {
                enqueue(.resume(head, rest))
            }
        case .response(let response):
            promised = nil  // taken, yet answered at once: the answer stands
            earlyOutcome = nil
            deliver(response, head)
        }
        return nil
    }

    /// Writes an answer given without a task, or has the task write one whose body streams.
    /// Such answers come only for requests that asked for no protocol switch: one that switches
    /// anyway becomes a 500.
    private func deliver(_ response: consuming Response, _ head: RequestHead) {
        if case .stream = response.body {
            var answer = response
            if answer.upgrade != nil { answer.upgrade = nil; answer.status = 500 }
            enqueue(.answer(head, answer))
        } else {
            writeInline(response, head)
        }
    }

    /// Writes a response that needs no task (bytes, a file or nothing) on the read path.
    private func writeInline(_ response: consuming Response, _ head: RequestHead) {
        if response.abort { close(); return }
        if response.status == 101 || response.upgrade != nil { response.status = 500 }
        let keepAlive = head.keepAlive && !response.closeConnection && peerAwaitsMore && !shuttingDown
        let framing = appendHead(response, isHead: head.isHead, minorVersion: head.minorVersion, keepAlive: keepAlive)
        if !framing.bodyWritten {
            if case .bytes(let b) = response.body { out.append(b) }
            if case .file(let region) = response.body { out.append(region) }
        }
        scheduleFlush()
        if framing.closeAfter {
            parseFailed = true  // read nothing more: the connection ends once the output drains
            finish()
        }
    }

    // MARK: - PromiseOwner

    func makePromise() -> ResponsePromise? {
        guard promised == nil, !isClosed else { return nil }
        let promise = ResponsePromise(owner: self)
        promised = ObjectIdentifier(promise)
        return promise
    }

    func awaits(_ promise: ObjectIdentifier) -> Bool { promise == promised && !isClosed }

    func whenClientGone(_ promise: ObjectIdentifier, _ body: @escaping () -> Void) {
        guard awaits(promise) else { body(); return }
        promiseClientGone = body
    }

    func settle(_ promise: ObjectIdentifier, _ outcome: consuming PromiseOutcome) {
        guard awaits(promise) else { return }
        // Still inside the chain call that took it: `answerInline` applies it on return.
        if promisedHead == nil { earlyOutcome = consume outcome; return }
        apply(consume outcome)
        // Requests read meanwhile are decoded now; with none, only reading may need resuming.
        if isClosed { return }
        if decoder.isIdle { updateInterest() } else { process() }
    }

    /// Ends the wait for the promised answer: it goes out, or the request goes to the task.
    private func apply(_ outcome: consuming PromiseOutcome) {
        guard let head = promisedHead.take() else { return }
        let rest = promisedRest.take()
        promised = nil
        promiseClientGone = nil
        switch consume outcome {
        case .handBack:
            enqueue(.resume(head, rest ?? Resumption { Response(status: 500) }))
        case .response(let response):
            deliver(response, head)
        }
    }

    private func makeRequest(_ head: RequestHead, _ stream: BodyStream?) -> Request {
        Request(method: head.method, rawPath: head.rawPath, query: head.query,
                proto: head.minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0", headers: head.headers, host: head.authority,
                body: RequestBody(stream: stream), connection: info)
    }

    /// Queues body bytes (from a streaming producer) and applies back-pressure.
    nonisolated(nonsending) func writeBodyBytes(_ bytes: [UInt8]) async throws {
        if !loop.inEventLoop {
            let loop = self.loop
            return try await withUnsafeThrowingContinuation { c in
                loop.execute {
                    Task(executorPreference: loop) {
                        do { try await self.writeBodyBytes(bytes); c.resume() } catch { c.resume(throwing: error) }
                    }
                }
            }
        }
        if isClosed { throw HTTPError(499, "connection closed") }
        out.append(bytes)
        scheduleFlush()
        try await waitForDrainIfNeeded(threshold: BodyStream.highWatermark)
    }

    nonisolated(nonsending) func waitForDrainIfNeeded(threshold: Int) async throws {
        if pendingOutput < threshold { return }
        flush()
        if isClosed { throw HTTPError(499, "connection closed") }
        if pendingOutput < threshold { return }
        try await withUnsafeThrowingContinuation { c in drainWaiter = c }
    }

    /// Queues bytes of an upgraded stream without suspending (loop thread).
    func enqueueUpgradedBytes(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        out.append(bytes)
        scheduleFlush()
    }

    var pendingOutputBytes: Int { pendingOutput }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.atTickEnd(self)
    }

    func tickEnd() {
        flushScheduled = false
        flush()
    }

    private func flush() {
        guard !isClosed else { return }
        let before = pendingOutput
        switch transport.write(&out, to: fd) {
        case .drained:
            writeBlocked = false
            lastWriteProgress = loop.now
            if let w = drainWaiter { drainWaiter = nil; w.resume() }
            if closeWhenDrained { close(); return }
        case .blocked:
            writeBlocked = true
            if pendingOutput != before { lastWriteProgress = loop.now }
            if pendingOutput < BodyStream.lowWatermark, let w = drainWaiter { drainWaiter = nil; w.resume() }
        case .failed:
            close()
            return
        }
        // Requests already read may have waited for the output to drain (see `process`).
        if pendingOutput < BodyStream.highWatermark && decoder.bufferedByteCount > 0 { process() } else { updateInterest() }
    }

    func writable() { flush() }

    // MARK: - Lifecycle

    func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd)
        transport.closing()
        Glibc.close(fd)
        owner.remove(self)
        receivingBody?.fail(HTTPError(499, "connection closed"))
        receivingBody = nil
        // Requests never started go too (their body streams hold this connection strongly).
        for case .request(_, let stream?) in queue[queueHead...] { stream.fail(HTTPError(499, "connection closed")) }
        queue.removeAll()
        queueHead = 0
        upgraded?.received(nil)
        clientStoppedWaiting()  // a request in hand: its work is for no one now
        promised = nil  // its answer has nowhere to go
        promisedRest = nil
        earlyOutcome = nil
        if let w = waiter { waiter = nil; w.resume(returning: nil) }
        if let w = drainWaiter { drainWaiter = nil; w.resume(throwing: HTTPError(499, "connection closed")) }
    }

    /// Graceful shutdown: idle connections close now, busy ones after their current response.
    func beginShutdown() {
        shuttingDown = true
        upgraded?.beginShutdown()
        if let w = waiter, promised == nil, decoder.isIdle || inputClosed {
            waiter = nil
            w.resume(returning: nil)
        }
    }


    func tick(now: UInt64) {
        guard !isClosed else { return }
        let limits = runtime.limits
        if case .tls(let session) = transport {
            if !session.handshakeDone {
                if let t = limits.readHeaderTimeout, now &- headStarted > t { close() }
                return
            }
            if pendingOutput == 0 { session.trimBuffers() }
        }
        if upgraded != nil {
            // Ending after its last bytes (`UpgradedStream.close`): a peer that takes none of
            // them does not hold the connection past the write timeout, or the idle one.
            if closeWhenDrained, pendingOutput > 0, let t = limits.writeTimeout ?? limits.idleTimeout,
               now &- lastWriteProgress > t { close() }
            return
        }
        if let t = limits.writeTimeout, pendingOutput > 0, now &- lastWriteProgress > t { close(); return }
        if promised != nil { return }  // its handler's own timeouts apply
        if waiter != nil && decoder.isIdle && pendingOutput == 0 {
            if !receivedAny, let t = limits.readHeaderTimeout, now &- headStarted > t { close(); return }
            if let t = limits.idleTimeout, now &- lastRead > t { close() }
            return
        }
        if decoder.isReadingHead, waiter != nil, let t = limits.readHeaderTimeout, now &- headStarted > t { close(); return }
        if receivingBody != nil, let t = limits.readTimeout, now &- bodyStarted > t { close(); return }
    }
}
