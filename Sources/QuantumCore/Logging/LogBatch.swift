/// A loop's log entries, per sink, written together: at the end of a loop turn once a sink has
/// `flushBytes` waiting or its oldest entry is `flushDelay` old, by a timer when the loop goes
/// quiet, and when the loop stops — so a request costs no lock and no system call of its own
/// (as nginx's `access_log ... buffer=`), and an entry reaches its file within `flushDelay`.
/// `@unchecked Sendable`: loop-confined (`loop.logBatch`); the timer's closure runs on the loop.
final class LogBatch: TickEndWork, @unchecked Sendable {
    /// One sink's entries not yet written; its buffer keeps its memory across flushes.
    private final class Pending {
        let sink: LogSink
        /// Always there but while an entry is being appended (moved out, then back).
        @exclusivity(unchecked) var buffer: LogBuffer? = LogBuffer(capacity: 2 * LogBatch.flushBytes)
        init(_ sink: LogSink) { self.sink = sink }
        var waiting: Int { buffer?.count ?? 0 }
    }

    private let loop: EventLoop
    @exclusivity(unchecked) private var pending: [Pending] = []
    @exclusivity(unchecked) private var scheduled = false
    /// When the oldest entry not yet written was queued (0: none waiting).
    @exclusivity(unchecked) private var oldest: UInt64 = 0
    @exclusivity(unchecked) private var timerArmed = false

    static let flushBytes = 32 * 1024
    static let flushDelay: UInt64 = 100_000_000

    init(loop: EventLoop) { self.loop = loop }

    /// The batch of the loop this runs on.
    static func current(_ loop: EventLoop) -> LogBatch {
        if let batch = loop.logBatch { return batch }
        let batch = LogBatch(loop: loop)
        loop.logBatch = batch
        loop.atExit { batch.flush() }
        return batch
    }

    /// Writes one entry for `sink`: `make` appends it to the buffer it is given and gives it
    /// back — on a loop, that loop's batch for the sink; elsewhere a fresh one, written now.
    static func write(to sink: LogSink, loop: EventLoop?, _ make: (consuming LogBuffer) -> LogBuffer) {
        guard let loop, loop.inEventLoop else {
            let entry = make(LogBuffer())
            entry.withBytes { sink.write($0) }
            return
        }
        let batch = current(loop)
        let entries = batch.entries(for: sink)
        entries.buffer = make(entries.buffer.take()!)
        if !batch.scheduled {
            batch.scheduled = true
            loop.atTickEnd(batch)
        }
    }

    private func entries(for sink: LogSink) -> Pending {
        for entries in pending where entries.sink === sink { return entries }
        let entries = Pending(sink)
        pending.append(entries)
        return entries
    }

    func tickEnd() {
        scheduled = false
        if oldest == 0 { oldest = loop.now }
        if loop.now &- oldest >= Self.flushDelay || pending.contains(where: { $0.waiting >= Self.flushBytes }) {
            flush()
        } else if !timerArmed {
            timerArmed = true
            _ = loop.schedule(afterNanoseconds: Self.flushDelay) { [self] in
                timerArmed = false
                if pending.contains(where: { $0.waiting > 0 }) { flush() }
            }
        }
    }

    /// Writes everything waiting, one write per sink. A sink that had nothing since the last
    /// flush is let go (no sink of a config gone by is kept open).
    func flush() {
        pending.removeAll { $0.waiting == 0 }
        for entries in pending {
            entries.buffer?.withBytes { entries.sink.write($0) }
            entries.buffer?.removeAll()
        }
        oldest = 0
    }
}
