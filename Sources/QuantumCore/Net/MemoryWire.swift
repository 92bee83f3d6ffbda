import CQuantumLinux
import Glibc

/// A socket's stand-in, so a protocol can be tested as NIO's `EmbeddedChannel` tests one: the
/// test gives input and the end of it, reads the output, and sees what the protocol asked of
/// epoll (`interest`), with no descriptor and no timing. Its transport reads `input` in pieces
/// while the protocol keeps reading (what it leaves stays, as in a socket's buffer), and takes
/// output up to `window` bytes (nil: all of it) before a write "blocks".
///
/// `@unchecked Sendable`: loop-confined like its transport; tests reach it through `loop.submit`.
final class MemoryWire: @unchecked Sendable {
    var input: [UInt8] = []
    var inputEnded = false
    var output: [UInt8] = []
    var window: Int?
    /// What the transport last asked of epoll.
    private(set) var interest: UInt32 = 0
    var closed = false
    /// Told of readiness, as the loop tells a registered socket's handler.
    weak var handler: (any LoopIOHandler)?
    /// Where readiness is reported after an interest change.
    var loop: EventLoop?
    /// Input handed over at most this many bytes at a time (the loop's read buffer).
    let piece: Int

    init(piece: Int = 16384) { self.piece = piece }

    // MARK: - The test's side (on the loop)

    /// Bytes from the peer: read now if the protocol reads, as epoll would report them.
    func send(_ bytes: [UInt8]) {
        input += bytes
        if interest & EPOLLIN.rawValue != 0 { handler?.readable(IOEvents(raw: EPOLLIN.rawValue)) }
    }

    /// The peer closes its side (after the input given).
    func endInput() {
        inputEnded = true
        if interest & EPOLLIN.rawValue != 0 { handler?.readable(IOEvents(raw: EPOLLIN.rawValue | EPOLLRDHUP.rawValue)) }
    }

    /// The peer takes `bytes` more (nil: everything from now on) and the socket turns writable.
    func open(window bytes: Int?) {
        window = bytes.map { (window ?? 0) + $0 }
        if interest & EPOLLOUT.rawValue != 0 { handler?.writable() }
    }

    /// The output so far, taken.
    func takeOutput() -> [UInt8] {
        defer { output.removeAll() }
        return output
    }

    // MARK: - The transport's side

    /// An interest change (or a new handler), as `EPOLL_CTL_MOD` on an edge-triggered socket:
    /// readiness that holds now is reported once, on the loop's next turn.
    func rearm(_ wanted: UInt32) {
        interest = wanted
        let readable = wanted & EPOLLIN.rawValue != 0 && (!input.isEmpty || inputEnded)
        let writable = wanted & EPOLLOUT.rawValue != 0 && (window ?? 1) > 0
        guard readable || writable, let loop else { return }
        loop.execute { [self] in
            guard !closed, let handler else { return }
            if readable && interest & EPOLLIN.rawValue != 0 { handler.readable(IOEvents(raw: EPOLLIN.rawValue)) }
            if writable && interest & EPOLLOUT.rawValue != 0 && !closed { handler.writable() }
        }
    }

    func read(keepReading: () -> Bool, _ received: (UnsafeRawBufferPointer) -> Void) -> EdgeTriggeredReadEnd {
        while !input.isEmpty {
            let n = min(piece, input.count)
            let bytes = Array(input[..<n])
            input.removeFirst(n)
            bytes.withUnsafeBytes(received)
            if !keepReading() { return .stopped }
        }
        return inputEnded ? .endOfInput : .drained
    }

    func take(_ out: inout OutboundQueue) -> OutboundQueue.WriteResult {
        let limit = max(0, window ?? Int.max)
        guard let n = out.drain(limit: limit, into: { bytes in output.append(contentsOf: bytes); return bytes.count }) else {
            return .failed(EIO)
        }
        if let w = window { window = w - n }
        return out.isEmpty ? .drained : .blocked
    }
}
