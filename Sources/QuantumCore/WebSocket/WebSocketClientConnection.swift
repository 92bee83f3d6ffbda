import CQuantumLinux
import Glibc

/// A client TCP connection on an event loop: connects, runs the opening handshake, then carries
/// a WebSocket as its transport. Loop-confined like the server's connections.
final class WebSocketClientConnection: LoopIOHandler, TickEndWork, WebSocketTransport, @unchecked Sendable {
    /// What the server answered to the upgrade request.
    struct ResponseHead: Sendable {
        var status: Int
        var headers: HTTPFields
    }

    private enum Phase { case connecting, handshake, open, closed }

    /// The socket: plain TCP (ws://) or TLS (wss://).
    let io: SocketTransport
    let loop: EventLoop
    private let request: [UInt8]
    @exclusivity(unchecked) private var phase = Phase.connecting
    @exclusivity(unchecked) private var head: [UInt8] = []
    @exclusivity(unchecked) private var handshakeWaiter: UnsafeContinuation<ResponseHead, any Error>?
    @exclusivity(unchecked) private var handshakeTimer: LoopTimer?
    @exclusivity(unchecked) private var early: [UInt8] = []
    @exclusivity(unchecked) private var ended = false
    @exclusivity(unchecked) private var receiver: (any WebSocketTransportReceiver)?
    @exclusivity(unchecked) private var readPaused = false
    @exclusivity(unchecked) private var closeWhenDrained = false
    @exclusivity(unchecked) private var drainCallbacks: [@Sendable ((any Error)?) -> Void] = []

    /// The largest response head accepted.
    static let maxHeadBytes = 16 * 1024

    init(fd: Int32, loop: EventLoop, request: [UInt8], wire: SocketTransport.Wire = .plain) {
        io = SocketTransport(fd: fd, loop: loop, wire: wire, interest: EPOLLOUT.rawValue)
        self.loop = loop
        self.request = request
    }

    /// Registers the connecting socket and waits for the server's response head. Bytes after
    /// the head stay buffered for the WebSocket.
    func handshake(timeout: UInt64) async throws -> ResponseHead {
        try await withUnsafeThrowingContinuation { c in
            loop.execute {
                self.handshakeWaiter = c
                do {
                    try self.io.register(self)
                } catch {
                    self.io.release()
                    self.phase = .closed
                    self.handshakeWaiter = nil
                    c.resume(throwing: error)
                    return
                }
                self.handshakeTimer = self.loop.schedule(afterNanoseconds: timeout) {
                    self.failHandshake(WebSocketError.handshakeFailed("timed out"))
                }
            }
        }
    }

    private func failHandshake(_ error: any Error) {
        guard let w = handshakeWaiter else { return }
        handshakeWaiter = nil
        handshakeTimer?.cancel()
        closeNow()
        w.resume(throwing: error)
    }

    // MARK: - LoopIOHandler

    func readable(_ events: IOEvents) {
        switch phase {
        case .connecting: connected()
        case .closed: return
        case .handshake, .open: break
        }
        guard phase != .closed else { return }
        let end = io.read(events, keepReading: { phase != .closed && io.isReading }) { receivedPlain($0) }
        guard phase != .closed else { return }
        switch end {
        case .drained, .stopped, .budgetSpent:
            if io.tls != nil { flush() }  // the TLS handshake's next flight
        case .endOfInput:
            inputEnded()
        case .failed:
            let why = io.tls.map { "TLS: " + ($0.verificationFailure ?? "handshake failed") } ?? "the connection failed"
            if phase == .handshake { failHandshake(WebSocketError.handshakeFailed(why)) } else { closeNow() }
        }
    }

    /// Bytes from the server (decrypted over TLS): the response head, then the WebSocket's.
    private func receivedPlain(_ bytes: UnsafeRawBufferPointer) {
        if phase == .handshake {
            head.append(contentsOf: bytes)
            parseHead()
        } else if let receiver {
            receiver.transportReceived(Array(bytes))
        } else {
            early.append(contentsOf: bytes)
            updateInterest()
        }
    }

    private func inputEnded() {
        if phase == .handshake { failHandshake(WebSocketError.handshakeFailed("connection closed during the handshake")); return }
        ended = true
        updateInterest()
        receiver?.transportReceived(nil)
    }

    func writable() {
        if phase == .connecting { connected(); return }
        flush()
    }

    func tick(now: UInt64) {}

    func tickEnd() {
        io.flushScheduled = false
        flush()
    }

    /// The non-blocking connect finished: send the upgrade request.
    private func connected() {
        let err = Sockets.pendingError(io.fd)
        if err != 0 { failHandshake(SystemError(operation: "connect", code: err)); return }
        phase = .handshake
        io.out.append(request)
        // Over TLS the ClientHello goes first; the request is encrypted once the handshake is done.
        if let session = io.tls, session.startHandshake() == .failed {
            failHandshake(WebSocketError.handshakeFailed("TLS: cannot start the handshake"))
            return
        }
        flush()
    }

    private func parseHead() {
        guard let end = findHeadEnd() else {
            if head.count > Self.maxHeadBytes { failHandshake(WebSocketError.handshakeFailed("response head too large")) }
            return
        }
        let text = String(decoding: head[..<end], as: UTF8.self)
        early = Array(head[(end + 4)...])
        head = []
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.isEmpty ? [] : lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else {
            failHandshake(WebSocketError.handshakeFailed("malformed status line"))
            return
        }
        var headers = HTTPFields()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                failHandshake(WebSocketError.handshakeFailed("malformed header line"))
                return
            }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].trimmingOWS()))
        }
        phase = .open
        handshakeTimer?.cancel()
        handshakeTimer = nil
        // Nothing is read until the WebSocket attaches.
        readPaused = true
        updateInterest()
        if let w = handshakeWaiter { handshakeWaiter = nil; w.resume(returning: ResponseHead(status: status, headers: headers)) }
    }

    private func findHeadEnd() -> Int? {
        guard head.count >= 4 else { return nil }
        for i in 0...(head.count - 4) where head[i] == 13 && head[i + 1] == 10 && head[i + 2] == 13 && head[i + 3] == 10 { return i }
        return nil
    }

    // MARK: - Output

    private func scheduleFlush() { io.scheduleFlush(self) }

    private func flush() {
        guard phase != .closed else { return }
        switch io.write() {
        case .drained:
            notifyDrained(nil)
            if closeWhenDrained && io.out.isEmpty { closeNow(); return }
        case .blocked:
            if io.out.pendingBytes < WebSocketWatermark.high / 4 { notifyDrained(nil) }
        case .failed(let e):
            if phase == .handshake { failHandshake(SystemError(operation: "write", code: e)); return }
            closeNow()
            return
        }
        updateInterest()
    }

    private func notifyDrained(_ error: (any Error)?) {
        guard !drainCallbacks.isEmpty else { return }
        let callbacks = drainCallbacks
        drainCallbacks = []
        for cb in callbacks { cb(error) }
    }

    private func updateInterest() {
        guard phase != .closed else { return }
        io.want(reading: phase == .handshake || (phase == .open && !readPaused && !ended), writing: phase == .connecting)
    }

    // MARK: - WebSocketTransport

    func startReceiving(_ receiver: any WebSocketTransportReceiver) {
        self.receiver = receiver
        readPaused = false
        if !early.isEmpty {
            let bytes = early
            early = []
            receiver.transportReceived(bytes)
        }
        if ended || phase == .closed { receiver.transportReceived(nil) }
        updateInterest()
    }

    func setReadPaused(_ paused: Bool) {
        readPaused = paused
        updateInterest()
    }

    func write(_ bytes: [UInt8]) {
        guard phase == .open else { return }
        io.out.append(bytes)
        scheduleFlush()
    }

    var pendingWriteBytes: Int { phase == .closed ? 0 : io.pendingBytes }

    func whenWritable(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        if phase == .closed { body(WebSocketError.closed); return }
        drainCallbacks.append(body)
    }

    func closeAfterFlush() {
        closeWhenDrained = true
        if io.out.isEmpty { closeNow() } else { scheduleFlush() }
    }

    func closeNow() {
        guard phase != .closed else { return }
        let wasOpen = phase == .open
        phase = .closed
        io.release(farewell: wasOpen)
        notifyDrained(WebSocketError.closed)
        if wasOpen, !ended {
            ended = true
            receiver?.transportReceived(nil)
        }
    }
}
