/// Work a handler scheduled through its `Context`; cancel it when it is no longer wanted.
public struct ScheduledWork: Sendable {
    let timer: LoopTimer?
    let task: Task<Void, Never>?

    /// Stops the work from running if it has not run yet.
    public func cancel() {
        timer?.cancel()
        task?.cancel()
    }
}

/// The request's event loop as handlers may use it: its clock, its timers and per-loop state,
/// without holding the loop itself (loop-confined, so not for handlers to keep).
extension Context {
    /// Monotonic nanoseconds: the loop's time for the current tick (no clock read per call), or
    /// the system's monotonic clock for a request that came from no connection (a test).
    public var now: UInt64 { loop?.now ?? SystemClock.monotonicNanos() }

    /// Runs `body` after `delay`, on the request's loop (on a task for a request without one).
    @discardableResult
    public func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> ScheduledWork {
        let (seconds, attoseconds) = delay.components
        let nanos = UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
        if let loop { return ScheduledWork(timer: loop.schedule(afterNanoseconds: nanos, body), task: nil) }
        return ScheduledWork(timer: nil, task: Task {
            try? await Task.sleep(nanoseconds: nanos)
            if !Task.isCancelled { body() }
        })
    }

    /// The object kept for `key` on the request's loop, made on first use: per-loop state (a
    /// cache, a pool) every request on that loop shares without a lock. Use it on the loop (in
    /// a handler's synchronous code). A request that came from no connection gets a new object.
    public func loopLocal<T: AnyObject>(_ key: ObjectIdentifier, make: () -> T) -> T {
        guard let loop else { return make() }
        loop.assertInEventLoop()
        return loop.local(key, make: make)
    }
}
