import CQuantumLinux
import Glibc

/// A connected socket as every protocol on the loops uses it (the HTTP/1 and HTTP/2 servers,
/// the HTTP and WebSocket clients): its descriptor, its output queue, its epoll interest, and
/// its TLS session when it has one. A protocol reads and writes plaintext through it and never
/// touches the descriptor, so a protocol can be driven with no socket at all (`Wire.memory`),
/// and a new one (QUIC's streams, say) brings only its framing.
///
/// Loop-confined: it belongs to one connection on one loop, and moves only when that connection
/// hands it to the protocol it switches to.
final class SocketTransport {
    /// What carries the bytes.
    enum Wire {
        case plain
        case tls(TLSSession)
        /// No socket: the input is given and the output collected by a test (`MemoryWire`).
        case memory(MemoryWire)
    }

    let fd: Int32
    let loop: EventLoop
    let wire: Wire
    /// What the protocol has queued and the socket has not taken yet.
    @exclusivity(unchecked) var out = OutboundQueue()
    /// A flush is queued for the end of the loop's tick (`scheduleFlush`).
    @exclusivity(unchecked) var flushScheduled = false
    /// The epoll interest last asked for (`EPOLLIN`, `EPOLLOUT`).
    @exclusivity(unchecked) private(set) var interest: UInt32
    /// The last write stopped short: `EPOLLOUT` stays asked for until the socket takes the rest.
    @exclusivity(unchecked) private(set) var writeBlocked = false
    /// When output last moved (or was all written): write timeouts count from here.
    @exclusivity(unchecked) var lastWriteProgress: UInt64
    /// When bytes last arrived: idle and read timeouts count from here.
    @exclusivity(unchecked) var lastRead: UInt64
    @exclusivity(unchecked) private(set) var isReleased = false

    init(fd: Int32, loop: EventLoop, wire: Wire, interest: UInt32 = EPOLLIN.rawValue) {
        self.fd = fd
        self.loop = loop
        self.wire = wire
        self.interest = interest
        lastRead = SystemClock.monotonicNanos()  // (not the loop's clock: clients make theirs off the loop)
        lastWriteProgress = lastRead
        if case .memory(let memory) = wire { memory.loop = loop; memory.rearm(interest) }
    }

    /// A transport with no socket, for driving a protocol in tests.
    convenience init(memory: MemoryWire, loop: EventLoop) {
        self.init(fd: -1, loop: loop, wire: .memory(memory))
    }

    /// The TLS session, when there is one.
    var tls: TLSSession? {
        if case .tls(let session) = wire { return session }
        return nil
    }

    /// Output not on the socket yet: queued, plus TLS records already made.
    var pendingBytes: Int {
        if case .tls(let session) = wire { return out.pendingBytes + session.pendingBytes }
        return out.pendingBytes
    }

    /// Reading is asked for.
    var isReading: Bool { interest & EPOLLIN.rawValue != 0 }

    // MARK: - Registration

    /// Puts the socket on its loop with `handler` as the one told of its readiness.
    func register(_ handler: any LoopIOHandler) throws {
        if case .memory(let memory) = wire { memory.handler = handler; return }
        try loop.register(fd, handler: handler, events: EventLoop.edgeTriggered(interest))
    }

    /// Hands the socket's readiness to another handler (a connection switching protocols).
    func handOver(to handler: any LoopIOHandler) {
        if case .memory(let memory) = wire { memory.handler = handler; memory.rearm(interest); return }
        loop.replaceHandler(fd, with: handler, events: EventLoop.edgeTriggered(interest))
    }

    // MARK: - Reading

    /// Reads what has arrived (until the socket is drained, within the loop's budget for one
    /// event), decrypting over TLS, and hands the plaintext to `received`; `keepReading` is
    /// asked after each piece. A TLS handshake advances here; its replies wait in
    /// `pendingBytes` for the owner's next flush.
    func read(_ events: IOEvents, keepReading: () -> Bool, _ received: (UnsafeRawBufferPointer) -> Void) -> EdgeTriggeredReadEnd {
        switch wire {
        case .plain:
            return loop.readEdgeTriggered(fd, events, interest: interest, keepReading: keepReading) { bytes in
                lastRead = loop.now
                received(bytes)
            }
        case .tls(let session):
            var ended: EdgeTriggeredReadEnd?
            let end = loop.readEdgeTriggered(fd, events, interest: interest,
                                             keepReading: { ended == nil && keepReading() }) { ciphertext in
                lastRead = loop.now
                switch session.feed(ciphertext, scratch: loop.readBuffer, deliver: received) {
                case .open: break
                case .closed: ended = .endOfInput
                case .failed: ended = .failed
                }
            }
            return ended ?? end
        case .memory(let memory):
            return memory.read(keepReading: keepReading) { bytes in
                lastRead = loop.now
                received(bytes)
            }
        }
    }

    // MARK: - Writing

    /// Queues `owner`'s flush (its `tickEnd`) for the end of the loop's tick, once however often
    /// it is asked: a burst of small writes leaves in one system call.
    @inline(__always)
    func scheduleFlush(_ owner: some TickEndWork) {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.atTickEnd(owner)
    }

    /// Writes queued output: `send`/`sendmsg`/`sendfile` in the clear, records over TLS.
    func write() -> OutboundQueue.WriteResult {
        let before = pendingBytes
        let result: OutboundQueue.WriteResult
        switch wire {
        case .plain: result = out.write(to: fd)
        case .tls(let session): result = session.write(&out)
        case .memory(let memory): result = memory.take(&out)
        }
        switch result {
        case .drained:
            writeBlocked = false
            lastWriteProgress = loop.now
        case .blocked:
            writeBlocked = true
            if pendingBytes != before { lastWriteProgress = loop.now }
        case .failed:
            break
        }
        return result
    }

    /// Asks for input when `reading`, and for writability while a write is blocked or when
    /// `writing` (a connect in progress). Edge-triggered: changing it re-arms the socket.
    func want(reading: Bool, writing: Bool = false) {
        var wanted: UInt32 = reading ? EPOLLIN.rawValue : 0
        if writeBlocked || writing { wanted |= EPOLLOUT.rawValue }
        guard wanted != interest, !isReleased else { return }
        interest = wanted
        if case .memory(let memory) = wire { memory.rearm(wanted); return }
        loop.modify(fd, events: EventLoop.edgeTriggered(wanted))
    }

    /// Returns TLS's buffers to their resting size once output is all written (an idle connection).
    func trimIfIdle() {
        if pendingBytes == 0, case .tls(let session) = wire { session.trimBuffers() }
    }

    // MARK: - The end

    /// The socket's end, once: out of epoll, TLS's goodbye (`close_notify`, or a pending alert)
    /// when `farewell`, the descriptor closed, queued output (and the files it holds) let go.
    func release(farewell: Bool = true) {
        guard !isReleased else { return }
        isReleased = true
        switch wire {
        case .plain:
            loop.deregister(fd)
        case .tls(let session):
            loop.deregister(fd)
            if farewell { session.closing() }
        case .memory(let memory):
            memory.closed = true
            memory.handler = nil
            out = OutboundQueue()
            return
        }
        Glibc.close(fd)
        out = OutboundQueue()
    }
}
