import CQuantumLinux
import Glibc

/// The connection's one task: takes requests in order, runs the ones the read path did not
/// finish, and writes each answer (streamed bodies with back-pressure) before the next.
extension HTTP1Connection {
    // MARK: - The connection task

    nonisolated(nonsending) func nextPending() async -> Pending? {
        if queueHead < queue.count {
            let p = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count { queue.removeAll(keepingCapacity: true); queueHead = 0 }
            if queue.count - queueHead == Self.maxPipelined - 1 { process() }
            return p
        }
        if isClosed || inputClosed || shuttingDown { return nil }
        return await withUnsafeContinuation { c in
            waiter = c
            if decodeOnceWaiting { decodeOnceWaiting = false; process() }
        }
    }

    nonisolated(nonsending) func serve() async {
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
    nonisolated(nonsending) func handle(_ head: RequestHead, _ stream: BodyStream?, rest: Resumption? = nil,
                                                answer: Response? = nil) async -> Bool {
        let started = headStarted
        var request: Request?  // made when the routes run here; for the log otherwise
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
                context.started = started
                let made = makeRequest(head, stream)
                request = made
                response = await runtime.respond(made, context: context)
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
        if case .awaitingUpgrade = input, !isUpgrade {
            input = .requests
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
            let size = try await write(response, isHead: head.isHead, minorVersion: head.minorVersion, keepAlive: keepAlive || isUpgrade)
            runtime.completed(request ?? makeRequest(head, nil), response, size: head.isHead ? response.headBodySize : size,
                              started: started, loop: loop)
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

    nonisolated(nonsending) func runUpgrade(_ upgrade: Upgrade) async {
        let stream = UpgradedStream(connection: self)
        input = .upgraded(stream)
        let leftover = decoder.takeRemaining()
        if !leftover.isEmpty { stream.received(leftover) }
        if inputClosed { stream.received(nil) }
        updateInterest()
        do { try await upgrade.run(stream) } catch {}
        finish()
    }

    func writeErrorAndClose(_ error: HTTP1ParseError) {
        let date = loop.dateHeader
        io.out.withTail { HTTP1ResponseEncoder.appendError(error.status, date: date, to: &$0) }
        finish()
    }

    /// Ends the connection once pending output is written.
    func finish() {
        advance(to: .finishing)
        if pendingOutput == 0 { close() } else { scheduleFlush() }
    }

    // MARK: - Write path

    /// Returns the body bytes sent (the access log's `size`).
    @discardableResult
    nonisolated(nonsending) func write(_ response: Response, isHead: Bool, minorVersion: Int, keepAlive: Bool) async throws -> Int {
        let mark = io.out.appendedBytes
        let framing = appendHead(response, isHead: isHead, minorVersion: minorVersion, keepAlive: keepAlive)
        var size = isHead ? 0 : response.body.knownLength ?? 0
        if !framing.bodyWritten {
            switch response.body {
            case .empty: break
            case .bytes(let b): io.out.append(b)
            case .file(let region): io.out.append(region)
            case .stream(let length, let producer):
                let writer = HTTP1BodyWriter(connection: self, chunked: framing.chunked, declaredLength: length)
                do {
                    try await producer(writer)
                    try await writer.finishBody()
                    size = writer.bytesWritten
                } catch {
                    // Nothing of this answer has gone out yet (an upstream's body broke at
                    // once): the client gets a 502 rather than a connection cut without a word.
                    guard !isClosed, io.out.removeLast(io.out.appendedBytes - mark) else { throw error }
                    writeErrorAndClose(HTTP1ParseError(502, "the response body failed before it began: \(error)"))
                    throw AnswerReplaced()
                }
            }
        }
        scheduleFlush()
        if framing.closeAfter { advance(to: .finishing) }
        try await waitForDrainIfNeeded(threshold: BodyStream.highWatermark)
        return size
    }

    /// A response that failed before any of it was written was replaced by an error answer.
    struct AnswerReplaced: Error {}

    /// Serialises the status line and headers (and a small body) into the output queue.
    func appendHead(_ response: Response, isHead: Bool, minorVersion: Int, keepAlive: Bool) -> HTTP1ResponseEncoder.Framing {
        let framing = HTTP1ResponseEncoder.framing(of: response, isHead: isHead, minorVersion: minorVersion, keepAlive: keepAlive)
        let date = loop.dateHeader
        io.out.withTail { HTTP1ResponseEncoder.appendHead(response, framing: framing, minorVersion: minorVersion, date: date, to: &$0) }
        return framing
    }
}
