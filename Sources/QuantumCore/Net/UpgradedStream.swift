/// The byte stream of an HTTP/1 connection after a claimed upgrade (WebSocket, tunnels).
final class UpgradedStream: UpgradedConnection, @unchecked Sendable {
    private let connection: HTTP1Connection
    @exclusivity(unchecked) private var chunks: [[UInt8]] = []
    @exclusivity(unchecked) private var ended = false
    @exclusivity(unchecked) private var waiter: UnsafeContinuation<[UInt8]?, Never>?

    init(connection: HTTP1Connection) { self.connection = connection }

    /// Bytes from the socket (nil: end of stream). Loop thread.
    func received(_ bytes: [UInt8]?) {
        guard let bytes else {
            ended = true
            if let w = waiter { waiter = nil; w.resume(returning: nil) }
            return
        }
        if let w = waiter { waiter = nil; w.resume(returning: bytes) } else { chunks.append(bytes) }
    }

    nonisolated(nonsending) func read() async throws -> [UInt8]? {
        let loop = connection.loop
        if !loop.inEventLoop {
            return await withUnsafeContinuation { c in loop.execute { self.readOnLoop(c) } }
        }
        if !chunks.isEmpty { return chunks.removeFirst() }
        if ended { return nil }
        return await withUnsafeContinuation { c in readOnLoop(c) }
    }

    private func readOnLoop(_ c: UnsafeContinuation<[UInt8]?, Never>) {
        if !chunks.isEmpty { c.resume(returning: chunks.removeFirst()); return }
        if ended { c.resume(returning: nil); return }
        waiter = c
    }

    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws {
        try await connection.writeBodyBytes(bytes)
    }

    func close() {
        let connection = self.connection
        if connection.loop.inEventLoop { connection.close() } else { connection.loop.execute { connection.close() } }
    }
}
