/// A loop's log entries of one tick, per sink: written at the tick's end, one write per sink,
/// so a request costs no lock and no system call of its own. Loop-confined (`loop.local`).
final class LogBatch: TickEndWork {
    private let loop: EventLoop
    private var pending: [(sink: LogSink, bytes: [UInt8])] = []
    private var scheduled = false

    init(loop: EventLoop) { self.loop = loop }

    /// The batch of the loop this runs on.
    static func current(_ loop: EventLoop) -> LogBatch {
        loop.local(ObjectIdentifier(LogBatch.self)) { LogBatch(loop: loop) }
    }

    /// Queues `bytes` for `sink` on `loop`'s batch (written now when not on a loop).
    static func write(_ bytes: [UInt8], to sink: LogSink, loop: EventLoop?) {
        if let loop, loop.inEventLoop { current(loop).append(sink) { $0 += bytes } } else { sink.write(bytes) }
    }

    func append(_ sink: LogSink, _ write: (inout [UInt8]) -> Void) {
        if let i = pending.firstIndex(where: { $0.sink === sink }) {
            write(&pending[i].bytes)
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(4096)
            write(&bytes)
            pending.append((sink, bytes))
        }
        if !scheduled {
            scheduled = true
            loop.atTickEnd(self)
        }
    }

    func tickEnd() {
        scheduled = false
        for batch in pending { batch.sink.write(batch.bytes) }
        pending.removeAll(keepingCapacity: true)  // (no sink of a config gone by is kept open)
    }
}
