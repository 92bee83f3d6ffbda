/// The byte stream of an HTTP/1 connection after a claimed upgrade (WebSocket, tunnels).
///
/// Bytes are pulled with `read()`, or pushed to a `WebSocketTransportReceiver` on the loop
/// thread once one is attached. Either way reading pauses while too much is buffered here.
/// `@unchecked Sendable`: loop-confined; calls from other threads hop to the connection's loop first.
final class UpgradedStream: UpgradedConnection, WebSocketTransport, @unchecked Sendable {
    private let connection: HTTP1Connection
    @exclusivity(unchecked) private var chunks: [[UInt8]] = []
    @exclusivity(unchecked) private var bufferedBytes = 0
    @exclusivity(unchecked) private var ended = false
    @exclusivity(unchecked) private var waiter: UnsafeContinuation<[UInt8]?, Never>?
    @exclusivity(unchecked) private var receiver: (any WebSocketTransportReceiver)?
    @exclusivity(unchecked) private var pausedByOwner = false
    @exclusivity(unchecked) private var drainWatch = false
    @exclusivity(unchecked) private var drainCallbacks: [@Sendable ((any Error)?) -> Void] = []

    /// Reading stops while more than this waits in `chunks` for `read()`.
    static let maxBuffered = 256 * 1024

    init(connection: HTTP1Connection) { self.connection = connection }

    var loop: EventLoop { connection.loop }

    /// Whether the connection should stop reading the socket. Loop thread.
    var readPaused: Bool { pausedByOwner || bufferedBytes >= Self.maxBuffered }

    /// Bytes from the socket (nil: end of stream). Loop thread.
    func received(_ bytes: [UInt8]?) {
        if let receiver {
            receiver.transportReceived(bytes)
            return
        }
        guard let bytes else {
            ended = true
            if let w = waiter { waiter = nil; w.resume(returning: nil) }
            return
        }
        if let w = waiter {
            waiter = nil
            w.resume(returning: bytes)
        } else {
            chunks.append(bytes)
            bufferedBytes += bytes.count
        }
    }

    nonisolated(nonsending) func read() async throws -> [UInt8]? {
        let loop = connection.loop
        if !loop.inEventLoop {
            return await withUnsafeContinuation { c in loop.execute { self.readOnLoop(c) } }
        }
        if !chunks.isEmpty { return takeChunk() }
        if ended { return nil }
        return await withUnsafeContinuation { c in readOnLoop(c) }
    }

    private func readOnLoop(_ c: UnsafeContinuation<[UInt8]?, Never>) {
        if !chunks.isEmpty { c.resume(returning: takeChunk()); return }
        if ended { c.resume(returning: nil); return }
        waiter = c
    }

    private func takeChunk() -> [UInt8] {
        let wasPaused = readPaused
        let chunk = chunks.removeFirst()
        bufferedBytes -= chunk.count
        if wasPaused && !readPaused { connection.updateInterest() }
        return chunk
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        try await connection.writeBodyBytes(bytes)
    }

    /// Ends the connection once what was written has gone out: a tunnel closes its client side
    /// right after writing the upstream's last bytes, which are still queued at that moment.
    func close() { onLoop { $0.closeAfterFlush() } }

    func abort() { onLoop { $0.closeNow() } }

    /// Runs `body` on the connection's loop (now, when already there).
    private func onLoop(_ body: @escaping @Sendable (UpgradedStream) -> Void) {
        if connection.loop.inEventLoop { body(self) } else { connection.loop.execute { body(self) } }
    }

    // MARK: - WebSocketTransport (loop thread)

    func startReceiving(_ receiver: any WebSocketTransportReceiver) {
        let buffered = chunks
        chunks = []
        bufferedBytes = 0
        self.receiver = receiver
        for chunk in buffered { receiver.transportReceived(chunk) }
        if ended { receiver.transportReceived(nil) }
        connection.updateInterest()
    }

    func setReadPaused(_ paused: Bool) {
        guard paused != pausedByOwner else { return }
        pausedByOwner = paused
        connection.updateInterest()
    }

    func write(_ bytes: [UInt8]) { connection.enqueueUpgradedBytes(bytes) }

    var pendingWriteBytes: Int { connection.isClosed ? 0 : connection.pendingOutputBytes }

    func whenWritable(_ body: @escaping @Sendable ((any Error)?) -> Void) {
        drainCallbacks.append(body)
        guard !drainWatch else { return }
        drainWatch = true
        // One waiter at a time on the connection's drain; only while output backs up.
        Task(executorPreference: connection.loop) {
            var failure: (any Error)?
            do { try await self.connection.waitForDrainIfNeeded(threshold: 1) } catch { failure = error }
            self.drainWatch = false
            let callbacks = self.drainCallbacks
            self.drainCallbacks = []
            for cb in callbacks { cb(failure) }
        }
    }

    /// The server is stopping (not reloading): a WebSocket closes with 1001.
    func beginShutdown() { receiver?.transportShuttingDown() }

    func closeAfterFlush() { connection.finish() }

    func closeNow() { connection.close() }
}
