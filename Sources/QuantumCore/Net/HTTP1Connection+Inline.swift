import CQuantumLinux
import Glibc

/// The synchronous fast path on the read path, and the wait for an answer a handler promised.
extension HTTP1Connection {
    /// The synchronous fast path: runs a bodiless request's routes on the read path when the
    /// connection's task is idle. The answer is written now; a run that stopped goes to the task
    /// to finish from where it stopped, or waits for the answer a handler promised
    /// (`DeferralOffer`). Takes the head (a promise keeps it without a copy) and gives it back
    /// when the request is to start over in the task (the connection is shutting down or busy).
    func answerInline(_ head: consuming RequestHead) -> RequestHead? {
        guard waiter != nil, queueHead == queue.count, !shuttingDown else { return head }
        let offer = deferralOffer ?? DeferralOffer(owner: self)
        deferralOffer = offer
        offer.isOpen = true
        var context = Context(loop: loop, deferral: offer, departure: departure)
        context.started = headStarted
        let request = makeRequest(head, nil)
        let result = runtime.respondInline(request, context: context)
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
            deliver(response, head, request)
        }
        return nil
    }

    /// Writes an answer given without a task, or has the task write one whose body streams.
    /// Such answers come only for requests that asked for no protocol switch: one that switches
    /// anyway becomes a 500.
    func deliver(_ response: consuming Response, _ head: RequestHead, _ request: Request? = nil) {
        if case .stream = response.body {
            var answer = response
            if answer.upgrade != nil { answer.upgrade = nil; answer.status = 500 }
            enqueue(.answer(head, answer))
        } else {
            writeInline(response, head, request)
        }
    }

    /// Writes a response that needs no task (bytes, a file or nothing) on the read path.
    func writeInline(_ response: consuming Response, _ head: RequestHead, _ request: Request? = nil) {
        if response.abort { close(); return }
        if response.status == 101 || response.upgrade != nil { response.status = 500 }
        let keepAlive = head.keepAlive && !response.closeConnection && peerAwaitsMore && !shuttingDown
        let framing = appendHead(response, isHead: head.isHead, minorVersion: head.minorVersion, keepAlive: keepAlive)
        if !framing.bodyWritten {
            if case .bytes(let b) = response.body { io.out.append(b) }
            if case .file(let region) = response.body { io.out.append(region) }
        }
        runtime.completed(request ?? makeRequest(head, nil), response, size: head.isHead ? response.headBodySize : response.body.knownLength ?? 0,
                          started: headStarted, loop: loop)
        scheduleFlush()
        if framing.closeAfter {
            input = .stopped  // read nothing more: the connection ends once the output drains
            finish()
        }
    }

    // MARK: - PromiseOwner

    func makePromise() -> ResponsePromise? {
        loop.assertInEventLoop()
        guard promised == nil, !isClosed else { return nil }
        let promise = ResponsePromise(owner: self)
        promised = ObjectIdentifier(promise)
        return promise
    }

    func awaits(_ promise: ObjectIdentifier) -> Bool { promise == promised && !isClosed }

    func whenClientGone(_ promise: ObjectIdentifier, _ body: @escaping () -> Void) {
        loop.assertInEventLoop()
        guard awaits(promise) else { body(); return }
        promiseClientGone = body
    }

    func settle(_ promise: ObjectIdentifier, _ outcome: consuming PromiseOutcome) {
        loop.assertInEventLoop()
        guard awaits(promise) else { return }
        // Still inside the chain call that took it: `answerInline` applies it on return.
        if promisedHead == nil { earlyOutcome = consume outcome; return }
        apply(consume outcome)
        // Requests read meanwhile are decoded now; with none, only reading may need resuming.
        if isClosed { return }
        if decoder.isIdle { updateInterest() } else { process() }
    }

    /// Ends the wait for the promised answer: it goes out, or the request goes to the task.
    func apply(_ outcome: consuming PromiseOutcome) {
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

    func makeRequest(_ head: RequestHead, _ stream: BodyStream?) -> Request {
        Request(method: head.method, rawPath: head.rawPath, query: head.query,
                proto: head.minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0", headers: head.headers, host: head.authority,
                body: RequestBody(stream: stream), connection: info)
    }
}
