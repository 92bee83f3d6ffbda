/// The byte stream under a `WebSocket`: a connection on an event loop that pushes what it reads
/// to a receiver on the loop thread, so no task has to wait in `read` for a WebSocket to answer
/// pings or notice a close. Every method is called on `loop`.
protocol WebSocketTransport: AnyObject, Sendable {
    var loop: EventLoop { get }
    /// Starts delivering: bytes already buffered first, then each read; nil once at end of stream.
    func startReceiving(_ receiver: any WebSocketTransportReceiver)
    /// Stops (or resumes) reading from the socket: inbound back-pressure.
    func setReadPaused(_ paused: Bool)
    /// Queues bytes; they are written at the end of the loop iteration.
    func write(_ bytes: [UInt8])
    /// Bytes queued and not yet taken by the socket.
    var pendingWriteBytes: Int { get }
    /// Calls `body` on the loop once the queued output is back under the low watermark, or with
    /// an error when the connection closed first.
    func whenWritable(_ body: @escaping @Sendable ((any Error)?) -> Void)
    /// Closes after the queued output is written.
    func closeAfterFlush()
    /// Closes now, dropping queued output.
    func closeNow()
}

protocol WebSocketTransportReceiver: AnyObject {
    /// Bytes from the peer, or nil at end of stream (the peer closed, or the socket failed).
    func transportReceived(_ bytes: [UInt8]?)
    /// The server is stopping: time to say goodbye (1001).
    func transportShuttingDown()
}

/// The output level above which senders wait (and reading pauses while answers back up).
enum WebSocketWatermark {
    static let high = 256 * 1024
}
