import Synchronization

/// A log's `sampling`, as zap's sampler that Caddy uses: within each `interval`, the first
/// `first` entries of one level and message are written, then every `thereafter`-th.
/// Only logs with `sampling` have one; it is shared by the loops (a lock per entry, then).
package final class LogSampler: Sendable {
    let interval: UInt64
    let first: Int
    let thereafter: Int
    private let counts = Mutex<[String: (window: UInt64, count: Int)]>([:])

    init(_ config: LogSamplingConfig) {
        interval = max(1, config.intervalNanos)
        first = config.first
        thereafter = config.thereafter
    }

    /// Whether an entry of `level` with `message` is written now.
    func admits(_ level: LogLevel, _ message: String, now: UInt64 = SystemClock.monotonicNanos()) -> Bool {
        let window = now / interval
        let n = counts.withLock { counts -> Int in
            let key = level.name + "\u{0}" + message
            var entry = counts[key] ?? (window, 0)
            if entry.window != window { entry = (window, 0) }
            entry.count += 1
            if counts.count > 4096 && counts[key] == nil { counts.removeAll() }  // bounded: messages vary
            counts[key] = entry
            return entry.count
        }
        return n <= first || (thereafter > 0 && (n - first) % thereafter == 0)
    }
}
