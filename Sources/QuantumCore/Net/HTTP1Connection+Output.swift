import CQuantumLinux
import Glibc

/// Output (queued, flushed at the tick's end, back-pressure for producers) and the connection's end.
extension HTTP1Connection {
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
        io.out.append(bytes)
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
        loop.assertInEventLoop()
        guard !isClosed else { return }
        io.out.append(bytes)
        scheduleFlush()
    }

    var pendingOutputBytes: Int { pendingOutput }

    func scheduleFlush() { io.scheduleFlush(self) }

    func tickEnd() {
        io.flushScheduled = false
        flush()
    }

    func flush() {
        guard !isClosed else { return }
        switch io.write() {
        case .drained:
            if let w = drainWaiter { drainWaiter = nil; w.resume() }
            if lifecycle == .finishing { close(); return }
        case .blocked:
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
        loop.assertInEventLoop()
        guard !isClosed else { return }
        lifecycle = .closed
        io.release()
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
        loop.assertInEventLoop()
        advance(to: .shuttingDown)
        upgraded?.beginShutdown()
        if let w = waiter, promised == nil, decoder.isIdle || inputClosed {
            waiter = nil
            w.resume(returning: nil)
        }
    }

    func tick(now: UInt64) {
        guard !isClosed else { return }
        let limits = runtime.limits
        io.trimIfIdle()
        if upgraded != nil {
            // Ending after its last bytes (`UpgradedStream.close`): a peer that takes none of
            // them does not hold the connection past the write timeout, or the idle one.
            if lifecycle == .finishing, pendingOutput > 0, let t = limits.writeTimeout ?? limits.idleTimeout,
               now &- io.lastWriteProgress > t { close() }
            return
        }
        if let t = limits.writeTimeout, pendingOutput > 0, now &- io.lastWriteProgress > t { close(); return }
        if promised != nil { return }  // its handler's own timeouts apply
        if waiter != nil && decoder.isIdle && pendingOutput == 0 {
            if !receivedAny, let t = limits.readHeaderTimeout, now &- headStarted > t { close(); return }
            if let t = limits.idleTimeout, now &- io.lastRead > t { close() }
            return
        }
        if decoder.isReadingHead, waiter != nil, let t = limits.readHeaderTimeout, now &- headStarted > t { close(); return }
        if receivingBody != nil, let t = limits.readTimeout, now &- bodyStarted > t { close(); return }
    }
}
