import Glibc

/// One HTTP/2 stream of a connection (loop thread only): the request as its HEADERS arrive,
/// its body, and the response body waiting for nghttp2 to ask for DATA.
final class HTTP2Stream: BodySource, @unchecked Sendable {
    let id: Int32
    unowned let connection: HTTP2Connection

    // Request side.
    @exclusivity(unchecked) var method = ""
    @exclusivity(unchecked) var path = ""
    @exclusivity(unchecked) var scheme = ""
    @exclusivity(unchecked) var authority = ""
    /// RFC 8441 extended CONNECT's `:protocol`.
    @exclusivity(unchecked) var protocolName: String?
    @exclusivity(unchecked) var headers = HTTPFields()
    @exclusivity(unchecked) var trailers = HTTPFields()
    @exclusivity(unchecked) var inTrailers = false
    /// Header bytes counted as SETTINGS_MAX_HEADER_LIST_SIZE does (name + value + 32 each).
    @exclusivity(unchecked) var headerBytes = 0
    @exclusivity(unchecked) var headersTooLarge = false
    @exclusivity(unchecked) var body: BodyStream?
    /// An extended CONNECT's stream as a byte stream (its DATA go here, not to `body`); a
    /// handler may claim it. Dropped when the stream closes.
    @exclusivity(unchecked) var tunnel: HTTP2Tunnel?
    /// The handler's task, cancelled when the stream closes: a reset stream's handler stops
    /// waiting (on the blocking pool, a body, a drain) and lets go of what it holds.
    @exclusivity(unchecked) var task: Task<Void, Never>?
    /// When its handling began (the loop's monotonic clock), for the logs' `duration`.
    @exclusivity(unchecked) var started: UInt64 = 0
    /// Request body bytes received and not yet read by the handler.
    @exclusivity(unchecked) var unread = 0

    // Response side.
    @exclusivity(unchecked) var chunks: [[UInt8]] = []
    @exclusivity(unchecked) var chunkIndex = 0
    @exclusivity(unchecked) var chunkOffset = 0
    @exclusivity(unchecked) var file: FileRegion?
    @exclusivity(unchecked) var fileOffset = 0
    /// Response bytes queued in `chunks`, not yet framed.
    @exclusivity(unchecked) var buffered = 0
    @exclusivity(unchecked) var ended = false
    /// Trailers the producer set, sent after the last DATA frame.
    @exclusivity(unchecked) var responseTrailers: [HTTPFields.Field] = []
    /// nghttp2 was told to wait (`NGHTTP2_ERR_DEFERRED`) until more body arrives.
    @exclusivity(unchecked) var deferred = false
    @exclusivity(unchecked) var drainWaiter: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) var closed = false
    /// The response's END_STREAM went out.
    @exclusivity(unchecked) var answered = false

    init(id: Int32, connection: HTTP2Connection) {
        self.id = id
        self.connection = connection
    }

    /// Whether every queued response byte has been handed to nghttp2.
    var responseDrained: Bool { chunkIndex == chunks.count && (file.map { fileOffset >= $0.length } ?? true) }

    /// Queues response body bytes (handed out by `HTTP2Connection.readBody`).
    func enqueue(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        chunks.append(bytes)
        buffered += bytes.count
    }

    /// Copies up to `length` queued bytes into `buf` (byte chunks, then the file range).
    /// Returns the count, or nil when the file could not be read.
    func take(into buf: UnsafeMutableRawPointer, length: Int) -> Int? {
        var written = 0
        while written < length && chunkIndex < chunks.count {
            let n = chunks[chunkIndex].withUnsafeBytes { src -> Int in
                let n = min(src.count - chunkOffset, length - written)
                (buf + written).copyMemory(from: src.baseAddress! + chunkOffset, byteCount: n)
                return n
            }
            written += n
            buffered -= n
            chunkOffset += n
            if chunkOffset == chunks[chunkIndex].count {
                chunkIndex += 1
                chunkOffset = 0
            }
        }
        if chunkIndex == chunks.count && chunkIndex > 0 { chunks.removeAll(keepingCapacity: true); chunkIndex = 0 }
        if written < length, let file, fileOffset < file.length {
            let want = min(length - written, file.length - fileOffset)
            var r = pread(file.file.fd, buf + written, want, off_t(file.offset + fileOffset))
            while r < 0 && errno == EINTR { r = pread(file.file.fd, buf + written, want, off_t(file.offset + fileOffset)) }
            if r <= 0 { return nil }  // an error, or the file shrank under us
            fileOffset += r
            written += r
        }
        return written
    }

    /// The stream ended (closed or reset): wake whoever waits on it.
    func closedByPeerOrConnection() {
        closed = true
        if let task { self.task = nil; task.cancel() }
        body?.fail(HTTPError(499, "stream closed"))
        if let t = tunnel { tunnel = nil; t.streamClosed() }
        if let w = drainWaiter { drainWaiter = nil; w.resume(throwing: HTTPError(499, "stream closed")) }
    }

    // MARK: - BodySource

    func bodyReaderWaiting(_ stream: BodyStream) {}
    func bodyDrained(_ stream: BodyStream) {}
    func bodyConsumed(_ stream: BodyStream, count: Int) { connection.bodyConsumed(self, count: count) }
}
