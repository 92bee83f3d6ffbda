import CNGHTTP2
import CQuantumLinux
import Glibc

/// One HTTP/2 connection on its loop: an nghttp2 server session fed inline by the loop's reads
/// (`nghttp2_session_mem_recv`) and drained into the connection's `OutboundQueue` at the end of
/// the loop tick (`nghttp2_session_mem_send`), in the clear or through TLS.
///
/// Streams map onto the same `Request`/`Response`/`RequestBody` types as HTTP/1. Bodiless
/// requests whose route can answer synchronously are answered on the read path; others run in
/// a task on the loop. Flow control: a stream's window is refunded as its handler reads, the
/// connection's as bytes arrive (within a per-connection budget), so a slow handler holds back
/// only its own stream.
/// `@unchecked Sendable`: loop-confined; producers on other threads hop to the loop (`writeBody`).
final class HTTP2Connection: LoopIOHandler, TickEndWork, ServerConnection, @unchecked Sendable {
    /// The socket (and its TLS session), its output queue and its epoll interest.
    let io: SocketTransport
    /// Strong: an unowned reference costs an atomic liveness check on every use, and the
    /// loop's registration of this connection, the only way back, ends when it closes.
    let loop: EventLoop
    /// The limits this connection was set up with (its SETTINGS), and the routes streams start on
    /// until a reload installs newer ones in `runtimes` (`streamRuntime`).
    let runtime: ServerRuntime
    let runtimes: RuntimeSlot
    let info: ConnectionInfo
    private let owner: ConnectionRegistry
    @exclusivity(unchecked) var session: OpaquePointer?
    @exclusivity(unchecked) var streams: [Int32: HTTP2Stream] = [:]
    @exclusivity(unchecked) private(set) var isClosed = false
    @exclusivity(unchecked) private var inputClosed = false
    /// A protocol error or goodbye: write what nghttp2 queued (GOAWAY), then close.
    @exclusivity(unchecked) private var closeWhenDrained = false
    @exclusivity(unchecked) private(set) var shuttingDown = false
    /// Request body bytes received and not yet read, across streams.
    @exclusivity(unchecked) private var unreadBytes = 0
    /// Connection-window bytes held back while `unreadBytes` is over budget.
    @exclusivity(unchecked) private var connectionDebt = 0
    /// Window refunds waiting for the next flush (never made inside nghttp2's callbacks).
    @exclusivity(unchecked) private var streamRefunds: [(Int32, Int)] = []
    @exclusivity(unchecked) private var connectionRefund = 0
    /// Streams whose request headers the current read completed, started after it.
    @exclusivity(unchecked) var pendingStarts: [HTTP2Stream] = []
    /// Handler tasks not yet finished, the cancelled ones of closed streams included: reading
    /// stops while there are `maxRunningTasks`, so a client that opens and resets streams
    /// faster than their handlers stop cannot pile up work.
    @exclusivity(unchecked) private var runningTasks = 0
    /// Resets of streams not yet answered the client may still make: a bucket of
    /// `earlyResetAllowance` that each answered stream and each second refill (by
    /// `earlyResetRefillPerSecond`). A client that empties it is flooding (CVE-2023-44487's rapid
    /// reset) and gets GOAWAY ENHANCE_YOUR_CALM; one cancelling now and then never does.
    @exclusivity(unchecked) private var earlyResetTokens = Double(earlyResetAllowance)
    @exclusivity(unchecked) private var earlyResetRefilled: UInt64 = 0
    @exclusivity(unchecked) private var flooding = false
    @exclusivity(unchecked) var recentResets: [Int32] = []
    static let earlyResetAllowance = 100
    static let earlyResetRefillPerSecond = 10.0

    /// Framed output waiting for the socket before nghttp2 is asked for more.
    static let outputHighWatermark = 256 * 1024

    init?(io: SocketTransport, runtimes: RuntimeSlot, info: ConnectionInfo, owner: ConnectionRegistry) {
        self.io = io
        loop = io.loop
        self.runtimes = runtimes
        runtime = runtimes.current
        self.info = info
        self.owner = owner
        earlyResetRefilled = loop.now
        // Unretained: the connection owns the session and deletes it in deinit, so no callback outlives it.
        guard let session = HTTP2Session.makeServer(userData: Unmanaged.passUnretained(self).toOpaque(), runtime.limits)
        else { return nil }
        self.session = session
    }

    deinit { if let session { nghttp2_session_del(session) } }

    /// Takes over the socket: `initial` is what was read while the protocol was chosen (the
    /// client preface) or past the switch point, `upgrade` the request that asked for `Upgrade: h2c`.
    func start(initial: [UInt8], upgrade: HTTP2Upgrade?) {
        if let upgrade {
            io.out.append(HTTP2Upgrade.switchingProtocols)
            guard acceptUpgrade(upgrade) else { closeWhenDrained = true; scheduleFlush(); return }
        }
        if !initial.isEmpty { initial.withUnsafeBytes { receive($0) } }
        scheduleFlush()
    }

    // MARK: - Read path

    func readable(_ events: IOEvents) {
        guard !isClosed else { return }
        let end = io.read(events, keepReading: { !isClosed && !closeWhenDrained && io.isReading }) { receive($0) }
        switch end {
        case .drained, .stopped, .budgetSpent: scheduleFlush()
        case .endOfInput: inputEnded()
        case .failed: close()
        }
    }

    /// Plaintext frames in: nghttp2 parses them and calls back (streams, headers, DATA).
    private func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, !closeWhenDrained, let session, let base = bytes.baseAddress else { return }
        let rv = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rv >= 0 {
            startPendingRequests()
        } else {
            pendingStarts.removeAll()
            if flooding { _ = nghttp2_session_terminate_session(session, H2.enhanceYourCalm) }
            // Bad frames, HPACK, floods: nghttp2 usually queued a GOAWAY already; make sure.
            _ = nghttp2_session_terminate_session(session, H2.protocolError)
            closeWhenDrained = true
            scheduleFlush()
        }
    }

    private func inputEnded() {
        inputClosed = true
        close()
    }

    // MARK: - Write path

    func scheduleFlush() {
        guard !isClosed else { return }
        io.scheduleFlush(self)
    }

    func tickEnd() {
        io.flushScheduled = false
        flush()
    }

    func writable() { flush() }

    private var pendingOutput: Int { io.pendingBytes }

    /// Applies window refunds, pulls frames from nghttp2 while the socket keeps up, writes.
    private func flush() {
        guard !isClosed, let session else { return }
        applyRefunds(session)
        while true {
            var pulled = false
            while pendingOutput < Self.outputHighWatermark {
                var data: UnsafePointer<UInt8>?
                let n = nghttp2_session_mem_send(session, &data)
                if n < 0 { close(); return }
                guard n > 0, let data else { break }
                let frames = UnsafeBufferPointer(start: data, count: n)
                io.out.withTail { $0.append(contentsOf: frames) }
                pulled = true
            }
            if case .failed = io.write() {
                close()
                return
            }
            if io.writeBlocked || !pulled || nghttp2_session_want_write(session) == 0 { break }
        }
        if pendingOutput == 0 {
            let idle = nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0
            if closeWhenDrained || idle { close(); return }
        }
        updateInterest()
    }

    private func applyRefunds(_ session: OpaquePointer) {
        for (id, count) in streamRefunds { _ = nghttp2_session_consume_stream(session, id, count) }
        streamRefunds.removeAll(keepingCapacity: true)
        if connectionRefund > 0 {
            _ = nghttp2_session_consume_connection(session, connectionRefund)
            connectionRefund = 0
        }
    }

    private func updateInterest() {
        guard !isClosed else { return }
        // Stop reading a peer that does not read its answers (or that we are done with).
        io.want(reading: !inputClosed && !closeWhenDrained && pendingOutput < Self.outputHighWatermark
                    && runningTasks < maxRunningTasks)
    }

    // MARK: - Flow control

    /// A request body arrived for a stream whose handler may read it later.
    func accountReceived(_ stream: HTTP2Stream?, _ streamID: Int32, _ count: Int) {
        guard let stream else {
            streamRefunds.append((streamID, count))
            connectionRefund += count
            return
        }
        stream.unread += count
        unreadBytes += count
        if unreadBytes <= runtime.limits.http2.connectionBufferBudget { connectionRefund += count } else { connectionDebt += count }
    }

    /// Bytes dropped for a stream whose window stays as it is: refund the connection's only.
    func connectionRefundLater(_ count: Int) { connectionRefund += count }

    /// The handler read `count` bytes: refund the stream's window (and held-back connection window).
    func bodyConsumed(_ stream: HTTP2Stream, count: Int) {
        let n = min(count, stream.unread)
        stream.unread -= n
        unreadBytes -= n
        if !stream.closed { streamRefunds.append((stream.id, n)) }
        repayConnection(n)
        scheduleFlush()
    }

    /// A stream ended with body bytes nobody will read.
    func forgetUnread(_ stream: HTTP2Stream) {
        guard stream.unread > 0 else { return }
        unreadBytes -= stream.unread
        repayConnection(stream.unread)
        stream.unread = 0
    }

    private func repayConnection(_ n: Int) {
        guard connectionDebt > 0 else { return }
        let pay = min(connectionDebt, n)
        connectionDebt -= pay
        connectionRefund += pay
    }

    /// Counts a stream the client reset before its answer was complete; true when the client
    /// is flooding (the caller stops the read there).
    func countEarlyReset() -> Bool {
        let now = loop.now
        let seconds = Double(now &- earlyResetRefilled) / 1e9
        earlyResetRefilled = now
        earlyResetTokens = min(Double(Self.earlyResetAllowance), earlyResetTokens + seconds * Self.earlyResetRefillPerSecond) - 1
        if earlyResetTokens < 0 { flooding = true }
        return flooding
    }

    /// A stream was answered in full: one more reset may come without counting as a flood.
    func countAnswered() {
        earlyResetTokens = min(Double(Self.earlyResetAllowance), earlyResetTokens + 1)
    }

    // MARK: - Handler tasks

    /// The streams a client may have open, and as many again of closed streams whose cancelled
    /// handlers have not finished yet: past that, reading waits for them.
    private var maxRunningTasks: Int { 2 * Int(runtime.limits.http2.maxConcurrentStreams) }

    func taskStarted() {
        runningTasks += 1
        if runningTasks == maxRunningTasks { updateInterest() }
    }

    func taskEnded() {
        runningTasks -= 1
        if runningTasks == maxRunningTasks - 1 { updateInterest() }
    }

    // MARK: - Lifecycle

    func close() {
        loop.assertInEventLoop()
        guard !isClosed else { return }
        isClosed = true
        io.release()
        owner.remove(self)
        pendingStarts.removeAll()
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.closedByPeerOrConnection() }
    }

    /// Graceful shutdown: GOAWAY naming the last stream taken; those finish, then the close.
    func beginShutdown() {
        loop.assertInEventLoop()
        guard !isClosed, !shuttingDown, let session else { return }
        shuttingDown = true
        _ = nghttp2_submit_goaway(session, H2.flagNone, nghttp2_session_get_last_proc_stream_id(session), H2.noError, nil, 0)
        for stream in streams.values { stream.tunnel?.serverShuttingDown() }  // WebSockets close with 1001
        scheduleFlush()
    }

    func tick(now: UInt64) {
        guard !isClosed else { return }
        let limits = runtime.limits
        if let t = limits.writeTimeout, pendingOutput > 0, now &- io.lastWriteProgress > t { close(); return }
        if streams.isEmpty && pendingOutput == 0 {
            if shuttingDown { close(); return }
            if let t = limits.idleTimeout, now &- io.lastRead > t {
                beginShutdown()
                closeWhenDrained = true
            }
        }
        io.trimIfIdle()
    }
}
