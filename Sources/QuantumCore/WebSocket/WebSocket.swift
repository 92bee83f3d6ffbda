import Synchronization

/// Why a WebSocket operation failed.
public enum WebSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection is closing or closed: nothing more can be sent.
    case closed
    /// The opening handshake failed (client side).
    case handshakeFailed(String)
    /// The URL is not a ws:// URL this client can reach.
    case invalidURL(String)

    public var description: String {
        switch self {
        case .closed: "WebSocket closed"
        case .handshakeFailed(let why): "WebSocket handshake failed: \(why)"
        case .invalidURL(let url): "invalid WebSocket URL \(url)"
        }
    }
}

/// One open WebSocket connection, server or client side.
///
/// Messages arrive as an async sequence (`for await message in socket`), reassembled and
/// decompressed; iteration ends when the connection closes (`closeCode` then tells how).
/// One task at a time may iterate. `send` may be called from any task; it suspends while
/// the peer is slow to read (more than 256 KiB queued), so a slow peer never makes memory
/// grow — the sender waits. Reading pauses likewise while received messages wait for the
/// application (`WebSocketConfiguration.maxQueuedBytes`) or while our answers (pongs) back up.
/// Pings are answered automatically; with `pingInterval` set an idle peer is pinged and
/// dropped when it stays silent past `pingTimeout`.
/// `@unchecked Sendable`: mutable state is loop-confined (callers off the loop hop there) or a Mutex/atomic.
public final class WebSocket: AsyncSequence, @unchecked Sendable {
    /// Each element is one whole message, reassembled from its frames and decompressed.
    public typealias Element = WebSocketMessage
    /// Iteration never throws: a failure ends it, and `closeCode` tells why.
    public typealias Failure = Never

    /// The subprotocol both ends agreed on (`Sec-WebSocket-Protocol`).
    public let subprotocol: String?
    /// The permessage-deflate parameters in use, if negotiated.
    public let compression: PerMessageDeflateParameters?
    /// The limits and timers this connection runs with (message size, queueing, pings).
    public let configuration: WebSocketConfiguration

    let transport: any WebSocketTransport
    let loop: EventLoop
    private let closeInfo = Mutex<(code: WebSocketCloseCode, reason: String)?>(nil)
    let broadcastMisses = Atomic<Int>(0)
    let isClient: Bool

    // Loop-confined state.
    @exclusivity(unchecked) private var engine: WebSocketEngine
    @exclusivity(unchecked) private var outputs: [WebSocketEngine.Output] = []
    @exclusivity(unchecked) private var inbox: [WebSocketMessage] = []
    @exclusivity(unchecked) private var inboxHead = 0
    @exclusivity(unchecked) private var inboxBytes = 0
    @exclusivity(unchecked) private var receiver: UnsafeContinuation<WebSocketMessage?, Never>?
    @exclusivity(unchecked) private var closeWaiters: [UnsafeContinuation<Void, Never>] = []
    @exclusivity(unchecked) private var pausedForInbox = false
    @exclusivity(unchecked) private var pausedForOutput = false
    @exclusivity(unchecked) private var finished = false
    @exclusivity(unchecked) private var started = false
    @exclusivity(unchecked) private var lastReceived: UInt64 = 0
    @exclusivity(unchecked) private var pingSentAt: UInt64?
    @exclusivity(unchecked) private var pingTimer: LoopTimer?
    @exclusivity(unchecked) private var closeTimer: LoopTimer?
    /// A protocol failure held back until the application has taken the messages that came
    /// before it (so an echo of them still goes out first): our close frame, code and reason.
    /// The application was handed a message and has not asked for the next one yet.
    @exclusivity(unchecked) private var appHoldsMessage = false
    @exclusivity(unchecked) private var pendingFailure: (frame: [UInt8], code: WebSocketCloseCode, reason: String)?

    init(transport: any WebSocketTransport, role: WebSocketEngine.Role, configuration: WebSocketConfiguration,
         compression: PerMessageDeflateParameters?, subprotocol: String?) {
        self.transport = transport
        loop = transport.loop
        self.configuration = configuration
        self.compression = compression
        self.subprotocol = subprotocol
        isClient = role == .client
        engine = WebSocketEngine(role: role, configuration: configuration, deflate: compression)
    }

    /// Attaches to the transport. Loop thread.
    func start() {
        guard !started else { return }
        started = true
        lastReceived = loop.now
        transport.startReceiving(self)
        schedulePing()
    }

    /// How the connection closed (the peer's code, ours after a failure, 1006 without a close
    /// frame); nil while open.
    public var closeCode: WebSocketCloseCode? { closeInfo.withLock { $0?.code } }
    /// The reason that goes with `closeCode` (the close frame's text, or ours when we ended it); nil while open.
    public var closeReason: String? { closeInfo.withLock { $0?.reason } }

    // MARK: - Receiving

    /// Reads messages with `receive()`; one task at a time may iterate.
    public struct Iterator: AsyncIteratorProtocol {
        let socket: WebSocket
        /// The next message; nil once the connection is closed.
        public mutating func next() async -> WebSocketMessage? { await socket.receive() }
    }

    public func makeAsyncIterator() -> Iterator { Iterator(socket: self) }

    /// The next message; nil once the connection is closed.
    public nonisolated(nonsending) func receive() async -> WebSocketMessage? {
        if !loop.inEventLoop {
            return await withUnsafeContinuation { c in loop.execute { self.receiveOnLoop(c) } }
        }
        appHoldsMessage = false
        if let m = popInbox() { appHoldsMessage = true; return m }
        firePendingFailure()
        if finished { return nil }
        return await withUnsafeContinuation { c in receiveOnLoop(c) }
    }

    private func receiveOnLoop(_ c: UnsafeContinuation<WebSocketMessage?, Never>) {
        appHoldsMessage = false
        if let m = popInbox() { appHoldsMessage = true; c.resume(returning: m); return }
        firePendingFailure()
        if finished { c.resume(returning: nil); return }
        precondition(receiver == nil, "a WebSocket is read by one task at a time")
        receiver = c
    }

    private func popInbox() -> WebSocketMessage? {
        guard inboxHead < inbox.count else { return nil }
        let m = inbox[inboxHead]
        inboxHead += 1
        if inboxHead == inbox.count { inbox.removeAll(keepingCapacity: inbox.count <= 64); inboxHead = 0 }
        inboxBytes -= m.count
        if pausedForInbox && inboxBytes < configuration.maxQueuedBytes / 2 {
            pausedForInbox = false
            updatePause()
        }
        return m
    }

    private func deliver(_ m: WebSocketMessage) {
        if let r = receiver {
            receiver = nil
            appHoldsMessage = true
            r.resume(returning: m)
            return
        }
        inbox.append(m)
        inboxBytes += m.count
        if !pausedForInbox && inboxBytes >= configuration.maxQueuedBytes {
            pausedForInbox = true
            updatePause()
        }
    }

    private func updatePause() {
        guard !finished else { return }
        transport.setReadPaused(pausedForInbox || pausedForOutput)
    }

    // MARK: - Sending

    /// Sends a text message; throws `WebSocketError.closed` once the connection is closing.
    public nonisolated(nonsending) func send(text: String) async throws {
        try await send(.text(text))
    }

    /// Sends a binary message; throws `WebSocketError.closed` once the connection is closing.
    public nonisolated(nonsending) func send(binary: [UInt8]) async throws {
        try await send(.binary(binary))
    }

    /// Sends one message; suspends while the peer has not taken what was sent before.
    public nonisolated(nonsending) func send(_ message: WebSocketMessage) async throws {
        try await perform { try $0.enqueue(message) }
    }

    /// Sends a ping (the pong is handled internally; any traffic proves the peer alive).
    public nonisolated(nonsending) func ping(_ payload: [UInt8] = []) async throws {
        try await perform { try $0.enqueueControl(.ping, payload) }
    }

    /// Sends an unsolicited pong (a heartbeat the peer does not answer).
    public nonisolated(nonsending) func pong(_ payload: [UInt8] = []) async throws {
        try await perform { try $0.enqueueControl(.pong, payload) }
    }

    /// Runs `body` on the loop, then waits while output backs up.
    private nonisolated(nonsending) func perform(_ body: @escaping @Sendable (WebSocket) throws -> Void) async throws {
        if loop.inEventLoop {
            try body(self)
            if transport.pendingWriteBytes < WebSocketWatermark.high { return }
            try await withUnsafeThrowingContinuation { c in waitWritable(c) }
            return
        }
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
            loop.execute {
                do { try body(self) } catch { c.resume(throwing: error); return }
                if self.transport.pendingWriteBytes < WebSocketWatermark.high { c.resume() } else { self.waitWritable(c) }
            }
        }
    }

    private func waitWritable(_ c: UnsafeContinuation<Void, any Error>) {
        transport.whenWritable { error in
            if error != nil { c.resume(throwing: WebSocketError.closed) } else { c.resume() }
        }
    }

    /// Loop thread: whether messages may still be queued.
    var isOpenForSending: Bool { !finished && (engine.state == .open || pendingFailure != nil) }

    /// Sends the close frame of a held-back failure and ends the connection.
    private func firePendingFailure() {
        guard let failure = pendingFailure else { return }
        pendingFailure = nil
        transport.write(failure.frame)
        end(code: failure.code, reason: failure.reason, closeNow: false)
    }

    /// Loop thread: queues a message without waiting for the peer (broadcasts).
    func sendNowait(_ message: WebSocketMessage) {
        guard isOpenForSending else { return }
        transport.write(engine.encodeMessage(message))
    }

    private func enqueue(_ message: WebSocketMessage) throws {
        guard isOpenForSending else { throw WebSocketError.closed }
        transport.write(engine.encodeMessage(message))
    }

    private func enqueueControl(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws {
        guard isOpenForSending else { throw WebSocketError.closed }
        transport.write(engine.encodeControl(opcode, payload))
    }

    // MARK: - Closing

    /// Starts the closing handshake and waits until it ends (the peer's close frame, or
    /// `closeTimeout`). Returns at once when the connection is already closed.
    public nonisolated(nonsending) func close(code: WebSocketCloseCode = .normal, reason: String = "") async {
        if !loop.inEventLoop {
            await withUnsafeContinuation { c in loop.execute { self.closeOnLoop(code, reason, c) } }
            return
        }
        await withUnsafeContinuation { c in closeOnLoop(code, reason, c) }
    }

    private func closeOnLoop(_ code: WebSocketCloseCode, _ reason: String, _ c: UnsafeContinuation<Void, Never>) {
        firePendingFailure()
        if finished { c.resume(); return }
        closeWaiters.append(c)
        if let bytes = engine.encodeClose(code: code, reason: reason) {
            transport.write(bytes)
            closeTimer = loop.schedule(afterNanoseconds: Self.nanos(configuration.closeTimeout)) { [self] in
                guard !finished else { return }
                engine.abandon()
                end(code: .abnormal, reason: "no close frame from the peer", closeNow: true)
            }
        }
    }

    /// Waits until the connection is closed, without closing it.
    public nonisolated(nonsending) func waitUntilClosed() async {
        if !loop.inEventLoop {
            await withUnsafeContinuation { c in loop.execute { self.waitOnLoop(c) } }
            return
        }
        await withUnsafeContinuation { c in waitOnLoop(c) }
    }

    private func waitOnLoop(_ c: UnsafeContinuation<Void, Never>) {
        if finished { c.resume() } else { closeWaiters.append(c) }
    }

    /// Records the end, wakes everyone waiting and lets the transport go.
    private func end(code: WebSocketCloseCode, reason: String, closeNow: Bool) {
        guard !finished else { return }
        finished = true
        closeInfo.withLock { $0 = (code, reason) }
        pingTimer?.cancel(); pingTimer = nil
        closeTimer?.cancel(); closeTimer = nil
        if let r = receiver { receiver = nil; r.resume(returning: nil) }
        let waiters = closeWaiters
        closeWaiters = []
        for w in waiters { w.resume() }
        if closeNow { transport.closeNow() } else { transport.closeAfterFlush() }
    }

    // MARK: - Idle ping

    private func schedulePing() {
        guard let interval = configuration.pingInterval, !finished else { return }
        let wait = pingSentAt == nil ? Self.nanos(interval) : Swift.min(Self.nanos(interval), Self.nanos(configuration.pingTimeout))
        pingTimer = loop.schedule(afterNanoseconds: Swift.max(wait, 1_000_000)) { [self] in pingTick() }
    }

    private func pingTick() {
        guard !finished, let interval = configuration.pingInterval else { return }
        let now = loop.now
        if let sentAt = pingSentAt {
            if lastReceived > sentAt {
                pingSentAt = nil
            } else if now &- sentAt >= Self.nanos(configuration.pingTimeout) {
                if let bytes = engine.encodeClose(code: .internalError, reason: "keepalive ping timeout") { transport.write(bytes) }
                engine.abandon()
                end(code: .abnormal, reason: "keepalive ping timeout", closeNow: false)
                return
            }
        }
        if pingSentAt == nil && now &- lastReceived >= Self.nanos(interval) && engine.state == .open {
            transport.write(engine.encodeControl(.ping, []))
            pingSentAt = now
        }
        schedulePing()
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let (s, atto) = d.components
        if s < 0 { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(atto / 1_000_000_000)
    }
}

extension WebSocket: WebSocketTransportReceiver {
    func transportShuttingDown() {
        guard !finished, let bytes = engine.encodeClose(code: .goingAway, reason: "server shutting down") else { return }
        transport.write(bytes)
        closeTimer = loop.schedule(afterNanoseconds: Self.nanos(configuration.closeTimeout)) { [self] in
            guard !finished else { return }
            engine.abandon()
            end(code: .abnormal, reason: "no close frame from the peer", closeNow: true)
        }
    }

    func transportReceived(_ bytes: [UInt8]?) {
        guard !finished else { return }
        guard let bytes else {
            if pendingFailure != nil { firePendingFailure(); return }
            // The socket ended: a closing handshake that was not finished is abnormal (1006).
            engine.abandon()
            end(code: .abnormal, reason: "connection ended without a close frame", closeNow: false)
            return
        }
        lastReceived = loop.now
        bytes.withUnsafeBytes { engine.receive($0, into: &outputs) }
        var ended: (WebSocketCloseCode, String)?
        var failed = false
        var lastWrite: [UInt8]?
        for output in outputs {
            // The write just before `.closed` is the close frame: it may be held back below.
            if let w = lastWrite, !output.isClosed { transport.write(w); lastWrite = nil }
            switch output {
            case .message(let m): deliver(m)
            case .write(let b): lastWrite = b
            case .ping, .pong: break
            case .closed(let code, let reason, let error): ended = (code, reason); failed = error != nil
            }
        }
        outputs.removeAll(keepingCapacity: outputs.capacity <= 64)
        if let (code, reason) = ended {
            // A failure right behind messages the application has not handled yet waits for
            // them (bounded by closeTimeout); anything else ends the connection now.
            if failed, let frame = lastWrite, inboxHead < inbox.count || appHoldsMessage {
                pendingFailure = (frame, code, reason)
                transport.setReadPaused(true)
                closeTimer = loop.schedule(afterNanoseconds: Self.nanos(configuration.closeTimeout)) { [self] in firePendingFailure() }
                return
            }
            if let w = lastWrite { transport.write(w) }
            end(code: code, reason: reason, closeNow: false)
            return
        }
        if let w = lastWrite { transport.write(w) }
        // Answers (pongs) the peer does not read: stop reading its pings until they drain.
        if !pausedForOutput && transport.pendingWriteBytes >= WebSocketWatermark.high {
            pausedForOutput = true
            updatePause()
            transport.whenWritable { [self] _ in
                pausedForOutput = false
                updatePause()
            }
        }
    }
}
