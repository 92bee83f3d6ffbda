import CQuantumLinux
import Glibc

/// A named thread of its own for blocking work (a `read` on a pipe, inotify, a worker pool),
/// on pthreads: Foundation's `Thread` would bring Foundation, ICU and their ~8 MiB of mapped
/// text into every process that links the module.
package enum DetachedThread {
    /// Runs `body` on a new detached thread named `name` (its first 15 bytes: Linux keeps no
    /// more). False when no thread could be made (`body` then never runs).
    @discardableResult
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        // Retained: the new thread takes this +1 (takeRetainedValue), or it is released if none starts.
        let box = Unmanaged.passRetained(Job(name: String(decoding: name.utf8.prefix(15), as: UTF8.self), body: body))
        var tid = pthread_t()
        let started = pthread_create(&tid, nil, { arg in
            let job = Unmanaged<Job>.fromOpaque(arg!).takeRetainedValue()
            cq_set_thread_name(job.name)
            job.body()
            return nil
        }, box.toOpaque())
        guard started == 0 else { box.release(); return false }
        pthread_detach(tid)
        return true
    }

    private final class Job: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
    }
}
