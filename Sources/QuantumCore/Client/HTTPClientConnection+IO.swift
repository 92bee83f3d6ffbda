import CQuantumLinux
import Glibc

/// The client connection's socket side: readiness, response decoding, output and its end.
extension HTTPClientConnection {
    // MARK: - LoopIOHandler

    func readable(_ events: IOEvents) {
        switch phase {
        case .closed: return
        case .connecting: connected(); return
        case .idle, .busy, .upgraded: break
        }
        let wasHandshaking = !(io.tls?.handshakeDone ?? true)
        // Over TLS, the response callback waits until the session is done with the loop's buffer.
        feeding = io.tls != nil
        let end = io.read(events, keepReading: { phase != .closed && !inputClosed && io.isReading }) { receivedPlain($0) }
        feeding = false
        if io.tls != nil {
            deliverResponse(orFail: nil)
            if end != .failed && end != .endOfInput { flush() }  // the handshake's next flight
        }
        guard phase != .closed else { return }
        switch end {
        case .drained, .stopped, .budgetSpent: break
        case .endOfInput: inputEnded()
        case .failed:
            if wasHandshaking, let session = io.tls {
                fail(.connectFailed("TLS: " + (session.verificationFailure ?? "handshake failed")))
            } else {
                fail(phase == .busy && !receivedResponseBytes && completedExchanges > 0 ? .staleConnection : .connectionClosed)
            }
        }
    }

    /// Bytes from the server (decrypted, over TLS).
    func receivedPlain(_ bytes: UnsafeRawBufferPointer) {
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

    func inputEnded() {
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
            if now &- io.lastRead > configuration.idleTimeout { close() }
        case .busy:
            if let t = configuration.writeTimeout, !io.out.isEmpty, now &- io.lastWriteProgress > t { fail(.ioTimeout); return }
            // Only while reading: a body reader holding back (back-pressure) is not a silent server.
            if let t = configuration.readTimeout, head != nil, !responseEnded, io.isReading,
               now &- io.lastRead > t { fail(.ioTimeout) }
        default:
            break
        }
    }

    func tickEnd() {
        io.flushScheduled = false
        flush()
    }

    func connected() {
        let err = Sockets.pendingError(io.fd)
        timer?.cancel()
        timer = nil
        if err != 0 {
            fail(.connectFailed(String(cString: strerror(err))))
            return
        }
        phase = .idle
        io.lastRead = loop.now
        // Over TLS the ClientHello goes now; requests queue until the handshake is done.
        if let session = io.tls {
            guard session.startHandshake() != .failed else { fail(.connectFailed("TLS: cannot start the handshake")); return }
            flush()
        }
        updateInterest()
        if let c = connectWaiter { connectWaiter = nil; c.resume() }
    }

    // MARK: - Response decoding

    func process() {
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

    func handle(_ event: HTTP1Decoder.Event) {
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
    func finishExchangeIfDone() {
        guard phase == .busy, responseEnded else { return }
        guard requestEnded else {
            // The server answered before reading the whole request (an early 413, say): the
            // rest of the request cannot be skipped on this connection.
            close()
            return
        }
        completedExchanges += 1
        let reusable = configuration.keepAlive && requestKeepAlive && (head?.keepAlive ?? false)
            && !inputClosed && io.out.isEmpty && decoder.bufferedByteCount == 0
        head = nil
        body = nil
        guard reusable, let pool else { close(); return }
        phase = .idle
        io.lastRead = loop.now
        updateInterest()
        pool.checkIn(self)
    }

    // MARK: - BodySource

    func bodyReaderWaiting(_ stream: BodyStream) { resumeReading() }
    func bodyDrained(_ stream: BodyStream) { resumeReading() }

    func resumeReading() {
        if phase == .busy { process() } else { updateInterest() }
    }

    // MARK: - Output

    /// Writes raw bytes of an upgraded connection.
    nonisolated(nonsending) func writeUpgraded(_ bytes: [UInt8]) async throws {
        guard phase == .upgraded else { throw HTTPClientError.connectionClosed }
        try await writeBody(bytes)
    }

    func scheduleFlush() { io.scheduleFlush(self) }

    func flush() {
        guard phase != .closed, phase != .connecting else { return }
        switch io.write() {
        case .drained:
            if let w = drainWaiter { drainWaiter = nil; w.resume() }
        case .blocked:
            if io.out.pendingBytes < BodyStream.lowWatermark, let w = drainWaiter { drainWaiter = nil; w.resume() }
        case .failed:
            fail(phase == .busy && !receivedResponseBytes && completedExchanges > 0 ? .staleConnection : .connectionClosed)
            return
        }
        updateInterest()
    }

    func updateInterest() {
        guard phase != .closed else { return }
        let reading = phase != .connecting && !inputClosed && !(body?.isOverHighWatermark ?? false)
        // Reading resumes: the server's silence counts from now.
        if reading && !io.isReading { io.lastRead = loop.now }
        io.want(reading: reading, writing: phase == .connecting)
    }

    // MARK: - Lifecycle

    func fail(_ error: HTTPClientError) {
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
        let farewell = phase != .connecting
        phase = .closed
        timer?.cancel()
        timer = nil
        io.release(farewell: farewell)
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
