import CQuantumLinux
import Glibc

/// How `EventLoop.readEdgeTriggered` stopped.
enum EdgeTriggeredReadEnd {
    /// The socket is empty (a short read, or `EAGAIN`): the next arrival brings a new event.
    case drained
    /// The handler stopped reading (it paused or closed); its interest change re-arms the socket.
    case stopped
    /// The peer closed its side and everything before that was read.
    case endOfInput
    /// The read failed (not `EAGAIN`).
    case failed
    /// Still readable after `EventLoop.readsPerEvent` full buffers: re-armed, the rest waits
    /// for the next iteration so one busy peer cannot starve the loop.
    case budgetSpent
}

extension EventLoop {
    /// The epoll flags of a descriptor read with `readEdgeTriggered`, for an interest of
    /// `EPOLLIN`/`EPOLLOUT`: one event per change of state instead of one per iteration while
    /// data waits (a level-triggered descriptor is polled again by the kernel on every
    /// `epoll_wait` after each event, to learn it is empty). The peer's hang-up is asked for only
    /// while reading: a paused connection learns of it when it reads again, after the input it
    /// already holds (the re-arming `EPOLL_CTL_MOD` reports it then).
    static func edgeTriggered(_ interest: UInt32) -> UInt32 {
        interest | EPOLLET.rawValue | (interest & EPOLLIN.rawValue != 0 ? EPOLLRDHUP.rawValue : 0)
    }

    /// Full buffers read for one event before yielding to the loop's other descriptors.
    static let readsPerEvent = 16

    /// Reads an edge-triggered socket into the loop's buffer until it is drained, handing each
    /// chunk to `consume` (which may pause or close the connection: `keepReading` is asked after
    /// each chunk). `interest` is the descriptor's interest (`EPOLLIN`/`EPOLLOUT`) for re-arming
    /// it when the budget is spent.
    func readEdgeTriggered(_ fd: Int32, _ events: IOEvents, interest: @autoclosure () -> UInt32,
                           keepReading: () -> Bool, consume: (UnsafeRawBufferPointer) -> Void) -> EdgeTriggeredReadEnd {
        let buffer = readBuffer
        for _ in 0..<Self.readsPerEvent {
            let n = Sockets.receive(fd, into: buffer.baseAddress, count: buffer.count)
            if n > 0 {
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count && !events.peerClosed { return .drained }
            } else if n == 0 {
                return .endOfInput
            } else {
                let e = cq_errno()
                if e == EAGAIN || e == EWOULDBLOCK { return .drained }
                if e != EINTR { return .failed }
            }
            if !keepReading() { return .stopped }
        }
        modify(fd, events: Self.edgeTriggered(interest()))
        return .budgetSpent
    }
}
