import CQuantumLinux
import Glibc
import Synchronization

/// A few dedicated threads for blocking file work (`open`, `stat`, `readdir`), so event loops
/// never block on a disk and Dispatch's shared queues are not involved.
/// `@unchecked Sendable`: `queue` and `head` are used only with `mutex` held.
package final class BlockingPool: @unchecked Sendable {
    /// The process-wide pool (2 threads).
    public static let shared = BlockingPool(threads: 2)

    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    /// Jobs in arrival order from `head` on (the taken ones before it are dropped in bulk, so
    /// taking a job is O(1) however long the queue grows).
    private var queue: [@Sendable () -> Void] = []
    private var head = 0
    private static let taken: @Sendable () -> Void = {}

    public init(threads: Int) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for _ in 0..<max(1, threads) {
            let started = DetachedThread.start(name: "quantum-blocking") { self.work() }
            precondition(started, "cannot start the blocking pool's threads")
        }
    }

    private func work() {
        while true {
            pthread_mutex_lock(&mutex)
            while head == queue.count { pthread_cond_wait(&condition, &mutex) }
            let job = queue[head]
            queue[head] = Self.taken  // its captures go with the job, not with the queue
            head += 1
            if head == queue.count || head >= 1024 {
                queue.removeFirst(head)
                head = 0
            }
            pthread_mutex_unlock(&mutex)
            job()
        }
    }

    /// Runs `job` on a pool thread, without waiting for it (work nobody awaits, like
    /// compressing a rolled log).
    package func detach(_ job: @escaping @Sendable () -> Void) { submit(job) }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(&mutex)
        queue.append(job)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Runs `body` on a pool thread; the caller resumes on its own executor (its event loop).
    /// A task cancelled before its turn comes (a reset stream, a closed connection) skips
    /// `body` and gets `CancellationError`: abandoned work does not pile up behind live work.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        let cancelled = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<T, any Error>) in
                submit {
                    if cancelled.value.load(ordering: .relaxed) { c.resume(throwing: CancellationError()); return }
                    do { c.resume(returning: try body()) } catch { c.resume(throwing: error) }
                }
            }
        } onCancel: {
            cancelled.value.store(true, ordering: .relaxed)
        }
    }
}

private final class CancelFlag: Sendable {
    let value = Atomic<Bool>(false)
}
