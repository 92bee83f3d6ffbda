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

    /// Writes one entry for `sink`: `make` appends it to the buffer it is given — on a loop, that
    /// loop's batch for the sink (moved out and back, not copied); elsewhere a fresh one, written now.
    static func write(to sink: LogSink, loop: EventLoop?, _ make: (consuming [UInt8]) -> [UInt8]) {
        guard let loop, loop.inEventLoop else { sink.write(make([])); return }
        let batch = current(loop)
        if let i = batch.pending.firstIndex(where: { $0.sink === sink }) {
            let taken = batch.pending[i].bytes
            batch.pending[i].bytes = []
            batch.pending[i].bytes = make(taken)
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
        for batch in pending { batch.sink.write(batch.bytes) }
        pending.removeAll(keepingCapacity: true)  // (no sink of a config gone by is kept open)
    }
}
