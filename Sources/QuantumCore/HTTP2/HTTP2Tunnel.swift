import CNGHTTP2

/// The byte stream of one HTTP/2 stream after a claimed RFC 8441 extended CONNECT: the
/// stream's DATA frames carry the WebSocket (or a proxied tunnel) both ways, while the other
/// streams of the connection go on.
///
/// It plays the part `UpgradedStream` plays on HTTP/1: bytes are pushed to a
/// `WebSocketTransportReceiver` on the loop thread, or pulled with `read()` (the reverse
/// proxy's tunnel). Back-pressure is HTTP/2 flow control: the stream's window is refunded only
/// as bytes are handed on, so a paused or slow consumer stops its peer at the window (and no
/// other stream). Outbound bytes queue on the stream and leave as DATA frames as windows and
/// the socket allow. END_STREAM from the peer is end of stream; ours is sent by
/// `closeAfterFlush`; RST_STREAM either way closes at once.
/// `@unchecked Sendable`: loop-confined; `read`, `write`, `close` and `abort` hop to the loop first.
final class HTTP2Tunnel: UpgradedConnection, WebSocketTransport, @unchecked Sendable {
    /// Strong: a socket may outlive the serving task by a moment (broadcast rooms).
    private let connection: HTTP2Connection
    private let stream: HTTP2Stream
    @exclusivity(unchecked) private var inbox: [[UInt8]] = []
    /// The peer sent END_STREAM (or the stream closed): nothing more will arrive.
    @exclusivity(unchecked) private(set) var inboundEnded = false
    @exclusivity(unchecked) private var endDelivered = false
    @exclusivity(unchecked) private var delivering = false
    @exclusivity(unchecked) private var paused = false
    @exclusivity(unchecked) private var receiver: (any WebSocketTransportReceiver)?
    @exclusivity(unchecked) private var waiter: UnsafeContinuation<[UInt8]?, Never>?
    @exclusivity(unchecked) private var drainCallbacks: [@Sendable ((any Error)?) -> Void] = []
    /// A handler claimed the stream (its upgrade closure runs).
    @exclusivity(unchecked) var claimed = false
    /// Our END_STREAM is queued (after the output already queued).
    @exclusivity(unchecked) private(set) var finishing = false

    init(connection: HTTP2Connection, stream: HTTP2Stream) {
        self.connection = connection
        self.stream = stream
    }

    var loop: EventLoop { connection.loop }

    // MARK: - From the connection (loop thread)

    /// DATA from the peer (already counted against the stream's window).
    func received(_ bytes: [UInt8]) {
        guard !inboundEnded, !bytes.isEmpty else { consumed(bytes.count); return }
        if receiver == nil, let w = waiter {
            waiter = nil
            consumed(bytes.count)
            w.resume(returning: bytes)
            return
        }
        inbox.append(bytes)
        deliver()
    }

    /// END_STREAM from the peer: end of stream once what came before is handed on.
    func peerEnded() {
        guard !inboundEnded else { return }
        inboundEnded = true
        if receiver == nil, inbox.isEmpty, let w = waiter { waiter = nil; endDelivered = true; w.resume(returning: nil) }
        deliver()
    }

    /// The stream is gone (reset, both sides ended, or the connection closed): what is buffered
    /// still goes to a receiver that is not paused, then the end; senders are told.
    func streamClosed() {
        inboundEnded = true
        if paused {
            inbox.removeAll()  // a paused receiver would hold the end back; nothing can be answered now
            paused = false
        }
        if receiver == nil, let w = waiter { waiter = nil; endDelivered = true; w.resume(returning: nil) }
        deliver()
        let callbacks = drainCallbacks
        drainCallbacks = []
        for cb in callbacks { cb(HTTPError(499, "stream closed")) }
    }

    /// nghttp2 took queued output: wake senders once it is back under the low watermark.
    func outputTaken() {
        guard !drainCallbacks.isEmpty, stream.buffered < HTTP2Connection.streamLowWatermark else { return }
        let callbacks = drainCallbacks
        drainCallbacks = []
        for cb in callbacks { cb(nil) }
    }

    /// The server is stopping (not reloading): a WebSocket says goodbye with 1001.
    func serverShuttingDown() {
        guard claimed, !finishing else { return }
        receiver?.transportShuttingDown()
    }

    /// Pushes buffered bytes (then the end) to the receiver while it is not paused. Reentrant
    /// calls (the receiver pausing or closing from inside) are folded into the running loop.
    private func deliver() {
        guard let receiver, !delivering else { return }
        delivering = true
        defer { delivering = false }
        while !paused && !inbox.isEmpty {
            let chunk = inbox.removeFirst()
            consumed(chunk.count)
            receiver.transportReceived(chunk)
        }
        if !paused && inbox.isEmpty && inboundEnded && !endDelivered {
            endDelivered = true
            receiver.transportReceived(nil)
        }
    }

    /// Bytes handed on: the peer may send that many more (refunded at the next flush).
    private func consumed(_ count: Int) {
        guard count > 0 else { return }
        connection.bodyConsumed(stream, count: count)
    }

    // MARK: - WebSocketTransport (loop thread)

    func startReceiving(_ receiver: any WebSocketTransportReceiver) {
        self.receiver = receiver
        deliver()
    }

    func setReadPaused(_ paused: Bool) {
        guard paused != self.paused else { return }
        self.paused = paused
        if !paused { deliver() }
    }

    func write(_ bytes: [UInt8]) {
        guard !finishing, !stream.closed, !connection.isClosed, !bytes.isEmpty else { return }
        stream.enqueue(bytes)
        connection.resume(stream)
    }

    var pendingWriteBytes: Int { stream.closed || connection.isClosed ? 0 : stream.buffered }

    func whenWritable(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        if stream.closed || connection.isClosed { body(HTTPError(499, "stream closed")); return }
        if stream.buffered < HTTP2Connection.streamLowWatermark { body(nil); return }
        drainCallbacks.append(body)
    }

    func closeAfterFlush() {
        guard !finishing else { return }
        finishing = true
        guard !stream.closed, !connection.isClosed else { return }
        stream.ended = true
        connection.resume(stream)
    }

    func closeNow() {
        finishing = true
        connection.reset(stream, H2.cancel)
    }

    // MARK: - UpgradedConnection (any thread)

    nonisolated(nonsending) func read() async throws -> [UInt8]? {
        if !loop.inEventLoop {
            return await withUnsafeContinuation { c in loop.execute { self.readOnLoop(c) } }
        }
        return await withUnsafeContinuation { c in readOnLoop(c) }
    }

    private func readOnLoop(_ c: UnsafeContinuation<[UInt8]?, Never>) {
        if !inbox.isEmpty {
            let chunk = inbox.removeFirst()
            consumed(chunk.count)
            c.resume(returning: chunk)
        } else if inboundEnded {
            endDelivered = true
            c.resume(returning: nil)
        } else if waiter != nil {
            c.resume(returning: nil)  // one reader at a time
        } else {
            waiter = c
        }
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        if finishing { throw HTTPError(499, "stream closed") }
        try await connection.writeBody(bytes, to: stream)
    }

    /// Ends our side after what was written (END_STREAM), like a TCP FIN.
    func close() {
        if loop.inEventLoop { closeAfterFlush() } else { loop.execute { self.closeAfterFlush() } }
    }

    /// Resets the stream (`CANCEL`).
    func abort() {
        if loop.inEventLoop { closeNow() } else { loop.execute { self.closeNow() } }
    }
}
