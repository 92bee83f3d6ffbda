import CQuantumLinux
import Glibc
import Synchronization

/// A file descriptor's owner on an event loop: the loop calls these on its own thread.
protocol LoopIOHandler: AnyObject {
    func readable(_ events: IOEvents)
    func writable()
    /// Called once a second with the loop's monotonic clock, for timeouts.
    func tick(now: UInt64)
}

/// What epoll reported for a descriptor along with its readability.
struct IOEvents {
    let raw: UInt32

    /// The peer shut its side, or the socket failed: nothing more will arrive, so an
    /// edge-triggered reader reads on to the end instead of stopping at a short read (the data
    /// and the end may have come in one edge).
    var peerClosed: Bool { raw & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 }
}

/// Work deferred to the end of the loop iteration (batched writes), without a closure allocation.
protocol TickEndWork: AnyObject {
    func tickEnd()
}

/// One epoll loop on its own thread; the `TaskExecutor` of the connections it owns.
///
/// All I/O state of a connection is confined to its loop. Jobs enqueued from the loop thread go
/// to a plain array; jobs from other threads go through a mutex and an eventfd wake-up that is
/// written only when none is pending yet.
/// `@unchecked Sendable`: its unchecked state is used only on its thread; the rest is atomics and a mutex.
package final class EventLoop: TaskExecutor, @unchecked Sendable {
    public let index: Int
    private let epfd: Int32
    private let wakeFD: Int32
    private let timerFD: Int32
    private var thread: pthread_t = pthread_t()
    private let started = Atomic<Bool>(false)
    private let wakePending = Atomic<Bool>(false)
    private let remoteWork = Mutex<RemoteQueue>(RemoteQueue())
    private let stopRequested = Atomic<Bool>(false)

    @exclusivity(unchecked) private var handlers = HandlerTable()
    @exclusivity(unchecked) private var jobs: [UnownedJob] = []
    @exclusivity(unchecked) private var spareJobs: [UnownedJob] = []
    @exclusivity(unchecked) private var tickEndWork: [any TickEndWork] = []
    @exclusivity(unchecked) private var spareTickEndWork: [any TickEndWork] = []
    @exclusivity(unchecked) private var timers = TimerHeap()
    @exclusivity(unchecked) private var locals: [ObjectIdentifier: AnyObject] = [:]
    /// The last `local` asked for: a proxy's pool is looked up on every request.
    @exclusivity(unchecked) private var recentLocal: (key: ObjectIdentifier, value: AnyObject)?
    @exclusivity(unchecked) private var nextTickAt: UInt64 = 0
    /// The monotonic clock read once per wake-up: timestamps for timeouts, not for measuring.
    @exclusivity(unchecked) public private(set) var now: UInt64 = SystemClock.monotonicNanos()
    /// A read buffer shared by every connection of this loop (they read one at a time).
    @exclusivity(unchecked) let readBuffer: UnsafeMutableRawBufferPointer
    /// This loop's HTTP metrics counts, made when a metrics-enabled server first counts here.
    @exclusivity(unchecked) var metricsShard: HTTPMetricsShard?
    /// This loop's log entries waiting to be written, made when it first logs.
    @exclusivity(unchecked) var logBatch: LogBatch?
    /// The `Date` header value, refreshed once a second.
    @exclusivity(unchecked) public private(set) var dateHeader: [UInt8] = HTTPDate.now()

    private enum RemoteWork { case job(UnownedJob), closure(@Sendable () -> Void) }
    /// Work from other threads; `closed` once the loop has run its last iteration.
    private struct RemoteQueue {
        var items: [RemoteWork] = []
        var closed = false
    }

    public init(index: Int) throws {
        self.index = index
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        guard epfd >= 0, wakeFD >= 0, timerFD >= 0 else { throw SystemError.last("epoll/eventfd/timerfd") }
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        try addFD(wakeFD, events: EPOLLIN.rawValue)
        try addFD(timerFD, events: EPOLLIN.rawValue)
    }

    deinit {
        close(epfd); close(wakeFD); close(timerFD)
        readBuffer.deallocate()
    }

    /// True when called on this loop's thread.
    public var inEventLoop: Bool { started.load(ordering: .acquiring) && pthread_equal(thread, pthread_self()) != 0 }

    /// Stops a debug build when called off this loop's thread: the entry check of loop-confined
    /// state (free in release builds).
    @inline(__always)
    package func assertInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(inEventLoop, "loop-confined state used off its loop", file: file, line: line)
    }

    /// Starts the loop's thread.
    public func start() {
        let box = Unmanaged.passRetained(self)  // the thread takes this +1: the loop lives until `run` ends
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, 8 << 20)
        var tid = pthread_t()
        pthread_create(&tid, &attr, { arg in
            let loop = Unmanaged<EventLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.thread = pthread_self()
            cq_set_thread_name("quantum-loop-\(loop.index)")
            loop.started.store(true, ordering: .releasing)
            loop.run()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attr)
        while !started.load(ordering: .acquiring) { sched_yield() }
    }

    /// Asks the loop to exit after its current iteration, and waits for its thread.
    public func stopAndJoin() {
        stopRequested.store(true, ordering: .releasing)
        wake()
        if !inEventLoop { pthread_join(thread, nil) }
    }

    // MARK: - Executor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if inEventLoop {
            jobs.append(job)
        } else {
            remoteWork.withLock { $0.items.append(.job(job)) }
            wake()
        }
    }

    /// Runs `work` on the loop thread (soon, never inline) — or, once the loop has stopped, on
    /// the caller's thread: the loop's state is no longer changing then, and nothing waits forever.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        let stopped = remoteWork.withLock { queue -> Bool in
            if queue.closed { return true }
            queue.items.append(.closure(work))
            return false
        }
        if stopped { work() } else { wake() }
    }

    /// Runs `body` on the loop thread and returns its result to the caller's executor.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        if inEventLoop { return body() }
        return await withUnsafeContinuation { c in execute { c.resume(returning: body()) } }
    }

    private func wake() {
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    // MARK: - Registration (loop thread only)

    func register(_ fd: Int32, handler: any LoopIOHandler, events: UInt32) throws {
        handlers[fd] = handler
        try addFD(fd, events: events)
    }

    func modify(_ fd: Int32, events: UInt32) {
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        _ = epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Hands a registered descriptor to another handler (a connection switching protocols).
    func replaceHandler(_ fd: Int32, with handler: any LoopIOHandler, events: UInt32) {
        handlers[fd] = handler
        modify(fd, events: events)
    }

    func deregister(_ fd: Int32) {
        handlers[fd] = nil
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nil)
    }

    private func addFD(_ fd: Int32, events: UInt32) throws {
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0 { throw SystemError.last("epoll_ctl") }
    }

    /// An object kept for `key` on this loop, made on first use (loop thread only): per-loop
    /// state such as client connection pools, reached without a lock.
    package func local<T: AnyObject>(_ key: ObjectIdentifier, make: () -> T) -> T {
        if let recentLocal, recentLocal.key == key, let existing = recentLocal.value as? T { return existing }
        let value: T
        if let existing = locals[key] as? T { value = existing } else {
            value = make()
            locals[key] = value
        }
        recentLocal = (key, value)
        return value
    }

    package func removeLocal(_ key: ObjectIdentifier) -> AnyObject? {
        if recentLocal?.key == key { recentLocal = nil }
        return locals.removeValue(forKey: key)
    }

    /// Calls `work.tickEnd()` at the end of the current loop iteration (used to batch writes).
    func atTickEnd(_ work: any TickEndWork) { tickEndWork.append(work) }


    // MARK: - Timers

    /// Runs `body` on the loop after `nanoseconds`; the returned timer can be cancelled.
    @discardableResult
    public func schedule(afterNanoseconds ns: UInt64, _ body: @escaping @Sendable () -> Void) -> LoopTimer {
        let timer = LoopTimer(deadline: SystemClock.monotonicNanos() &+ ns, action: body)
        if inEventLoop { addTimer(timer) } else { execute { self.addTimer(timer) } }
        return timer
    }

    private func addTimer(_ timer: LoopTimer) {
        let earliest = timers.peek?.deadline
        timers.push(timer)
        if earliest == nil || timer.deadline < earliest! { armTimerFD(timer.deadline) }
    }

    private func armTimerFD(_ deadline: UInt64) {
        let at = min(deadline, nextTickAt)
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(at / 1_000_000_000)
        spec.it_value.tv_nsec = Int(at % 1_000_000_000)
        if spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0 { spec.it_value.tv_nsec = 1 }
        _ = timerfd_settime(timerFD, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    private func fireTimers() {
        var expirations: UInt64 = 0
        _ = Glibc.read(timerFD, &expirations, 8)
        let now = SystemClock.monotonicNanos()
        while let top = timers.peek, top.deadline <= now {
            _ = timers.pop()
            if !top.isCancelled { top.action() }
        }
        if now >= nextTickAt {
            nextTickAt = now + 1_000_000_000
            dateHeader = HTTPDate.now()
            let current = handlers  // a tick may close connections, changing the table
            current.forEach { $0.tick(now: now) }
        }
        armTimerFD(timers.peek?.deadline ?? nextTickAt)
    }

    // MARK: - Run

    private func run() {
        let maxEvents = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: maxEvents)
        defer { events.deallocate() }
        nextTickAt = SystemClock.monotonicNanos() + 1_000_000_000
        armTimerFD(nextTickAt)
        while !stopRequested.load(ordering: .acquiring) {
            let timeout: Int32 = jobs.isEmpty ? -1 : 0
            let n = epoll_wait(epfd, events, Int32(maxEvents), timeout)
            now = SystemClock.monotonicNanos()
            if n > 0 {
                for i in 0..<Int(n) {
                    let ev = events[i]
                    let fd = ev.data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, 8)
                        continue
                    }
                    if fd == timerFD { fireTimers(); continue }
                    guard let handler = handlers[fd] else { continue }
                    if ev.events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        handler.readable(IOEvents(raw: ev.events))
                    }
                    if ev.events & EPOLLOUT.rawValue != 0, let h = handlers[fd], h === handler { handler.writable() }
                }
            }
            drainRemote()
            runJobs()
            runTickEnd()
        }
        drainRemote()
        runJobs()
        for action in exitActions { action() }
        exitActions.removeAll()
        // Closures that arrived after the last drain run here; later ones run on their callers.
        let late = remoteWork.withLock { queue -> [RemoteWork] in
            queue.closed = true
            defer { queue.items.removeAll() }
            return queue.items
        }
        for case .closure(let body) in late { body() }
    }

    /// Runs once the loop stops, on its thread (buffered log entries are written then).
    func atExit(_ action: @escaping () -> Void) { exitActions.append(action) }
    @exclusivity(unchecked) private var exitActions: [() -> Void] = []

    private func drainRemote() {
        guard wakePending.load(ordering: .acquiring) else { return }
        wakePending.store(false, ordering: .releasing)
        let work = remoteWork.withLock { w -> [RemoteWork] in let taken = w.items; w.items.removeAll(keepingCapacity: true); return taken }
        for item in work {
            switch item {
            case .job(let job): jobs.append(job)
            case .closure(let body): body()
            }
        }
    }

    private func runJobs() {
        var budget = 4096
        while !jobs.isEmpty && budget > 0 {
            swap(&jobs, &spareJobs)
            for job in spareJobs {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
            budget -= spareJobs.count
            spareJobs.removeAll(keepingCapacity: true)
            runTickEnd()
        }
    }

    private func runTickEnd() {
        while !tickEndWork.isEmpty {
            swap(&tickEndWork, &spareTickEndWork)
            for work in spareTickEndWork { work.tickEnd() }
            spareTickEndWork.removeAll(keepingCapacity: true)
        }
    }
}

/// A one-shot timer on an event loop.
/// `@unchecked Sendable`: immutable but for `cancelled`, which is atomic.
package final class LoopTimer: @unchecked Sendable {
    let deadline: UInt64
    let action: @Sendable () -> Void
    private let cancelled = Atomic<Bool>(false)
    init(deadline: UInt64, action: @escaping @Sendable () -> Void) { self.deadline = deadline; self.action = action }
    public func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}

/// A binary min-heap of timers ordered by deadline.
struct TimerHeap {
    private var items: [LoopTimer] = []
    var peek: LoopTimer? { items.first }
    mutating func push(_ t: LoopTimer) {
        items.append(t)
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if items[p].deadline <= items[i].deadline { break }
            items.swapAt(p, i); i = p
        }
    }
    mutating func pop() -> LoopTimer? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].deadline < items[m].deadline { m = l }
            if r < items.count && items[r].deadline < items[m].deadline { m = r }
            if m == i { break }
            items.swapAt(i, m); i = m
        }
        return top
    }
}

/// Handlers by file descriptor. Descriptors are small integers the kernel hands out lowest
/// first, so an array indexed by them finds a handler without hashing: this runs for every event.
struct HandlerTable {
    private var slots: [(any LoopIOHandler)?] = []

    subscript(fd: Int32) -> (any LoopIOHandler)? {
        get { fd >= 0 && Int(fd) < slots.count ? slots[Int(fd)] : nil }
        set {
            let i = Int(fd)
            guard i >= 0 else { return }
            if i >= slots.count {
                guard newValue != nil else { return }
                slots.append(contentsOf: repeatElement(nil, count: i + 1 - slots.count))
            }
            slots[i] = newValue
        }
    }

    func forEach(_ body: (any LoopIOHandler) -> Void) {
        for case let handler? in slots { body(handler) }
    }
}
