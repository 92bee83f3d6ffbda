/// A loop's log entries, per sink, written together: at the end of a loop turn once a sink has
/// `flushBytes` waiting or its oldest entry is `flushDelay` old, by a timer when the loop goes
/// quiet, and when the loop stops — so a request costs no lock and no system call of its own
/// (as nginx's `access_log ... buffer=`), and an entry reaches its file within `flushDelay`.
/// `@unchecked Sendable`: loop-confined (`loop.local`); the timer's closure runs on the loop.
final class LogBatch: TickEndWork, @unchecked Sendable {
    private let loop: EventLoop
    private var pending: [(sink: LogSink, bytes: [UInt8])] = []
    private var scheduled = false
    /// When the oldest entry not yet written was queued (0: none waiting).
    private var oldest: UInt64 = 0
    private var timerArmed = false

    static let flushBytes = 32 * 1024
    static let flushDelay: UInt64 = 100_000_000

    init(loop: EventLoop) { self.loop = loop }

    /// The batch of the loop this runs on.
    static func current(_ loop: EventLoop) -> LogBatch {
        loop.local(ObjectIdentifier(LogBatch.self)) {
            let batch = LogBatch(loop: loop)
            loop.atExit { batch.flush() }
            return batch
        }
    }

    /// Writes one entry for `sink`: `make` appends it to the buffer it is given — on a loop, that
    /// loop's batch for the sink (moved out and back, not copied); elsewhere a fresh one, written now.
    static func write(to sink: LogSink, loop: EventLoop?, _ make: (consuming [UInt8]) -> [UInt8]) {
        guard let loop, loop.inEventLoop else { sink.write(make([])); return }
        let batch = current(loop)
        if let i = batch.pending.firstIndex(where: { $0.sink === sink }) {
            var taken: [UInt8] = []
            swap(&taken, &batch.pending[i].bytes)
            // `consume`: the only reference goes to `make`, so appending to it copies nothing.
            batch.pending[i].bytes = make(consume taken)
        } else {
            batch.pending.append((sink, make([])))
        }
        if !batch.scheduled {
            batch.scheduled = true
            loop.atTickEnd(batch)
        }
    }

    func tickEnd() {
        scheduled = false
        if oldest == 0 { oldest = loop.now }
        if loop.now &- oldest >= Self.flushDelay || pending.contains(where: { $0.bytes.count >= Self.flushBytes }) {
            flush()
        } else if !timerArmed {
            timerArmed = true
            _ = loop.schedule(afterNanoseconds: Self.flushDelay) { [self] in
                timerArmed = false
                if pending.contains(where: { !$0.bytes.isEmpty }) { flush() }
            }
        }
    }

    /// Writes everything waiting, one write per sink. A sink's buffer keeps its capacity for the
    /// next entries (no regrowing, no copying); a sink that had nothing since the last flush is
    /// let go (no sink of a config gone by is kept open).
    func flush() {
        pending.removeAll { $0.bytes.isEmpty }
        for i in pending.indices {
            pending[i].sink.write(pending[i].bytes)
            pending[i].bytes.removeAll(keepingCapacity: true)
        }
        oldest = 0
    }
}
