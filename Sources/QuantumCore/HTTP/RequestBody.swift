/// The connection side of a request body: told when the reader wants bytes or has drained.
protocol BodySource: AnyObject {
    /// The reader is waiting with nothing buffered (send `100 Continue`, resume reading).
    func bodyReaderWaiting(_ stream: BodyStream)
    /// Buffered bytes fell below the low watermark.
    func bodyDrained(_ stream: BodyStream)
    /// The reader took `count` bytes (HTTP/2 refunds its flow-control window).
    func bodyConsumed(_ stream: BodyStream, count: Int)
}

/// Forwards to a source without keeping it alive (HTTP/2 streams, which reach their connection
/// through an unowned reference and must not outlive it).
final class WeakBodySource: BodySource {
    weak var target: (any BodySource)?
    init(_ target: any BodySource) { self.target = target }
    func bodyReaderWaiting(_ stream: BodyStream) { target?.bodyReaderWaiting(stream) }
    func bodyDrained(_ stream: BodyStream) { target?.bodyDrained(stream) }
    func bodyConsumed(_ stream: BodyStream, count: Int) { target?.bodyConsumed(stream, count: count) }
}

extension BodySource {
    func bodyConsumed(_ stream: BodyStream, count: Int) {}
}

/// A request body that streams in as it arrives. A value; copies share the same stream.
///
/// Read it with `next()` chunk by chunk, or `collect(upTo:)`. Over the body's byte limit (see
/// `request_body`), reads throw `HTTPError(413)`.
public struct RequestBody: Sendable {
    let stream: BodyStream?
    /// Set instead of `stream` for a body read from a file as it is sent.
    let file: FileBodySource?

    /// A request without a body.
    public static let empty = RequestBody(stream: nil)

    init(stream: BodyStream?) {
        self.stream = stream
        file = nil
    }

    init(file: FileBodySource) {
        stream = nil
        self.file = file
    }

    /// A body held in memory (tests, rewritten requests).
    public init(bytes: [UInt8]) {
        let s = BodyStream(loop: nil, source: nil, knownLength: bytes.count)
        if !bytes.isEmpty { s.push(bytes) }
        s.finish()
        stream = s
        file = nil
    }

    /// The declared length (`Content-Length`), nil when chunked or unknown.
    public var knownLength: Int? {
        if let file { return file.length }
        return stream == nil ? 0 : stream!.knownLength
    }

    /// The next chunk, or nil at the end.
    public nonisolated(nonsending) func next() async throws -> [UInt8]? {
        if let file { return try await file.next() }
        guard let stream else { return nil }
        return try await stream.next()
    }

    /// Reads the whole body; throws `HTTPError(413)` beyond `limit` bytes.
    public nonisolated(nonsending) func collect(upTo limit: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while let chunk = try await next() {
            if out.count + chunk.count > limit { throw HTTPError(413, "request body too large") }
            out += chunk
        }
        return out
    }

    /// The whole body, taken at once, when it has already arrived complete and unread (call on
    /// the body's event loop); nil otherwise. Lets a proxy answer small bodies without streaming.
    public func takeIfComplete() -> [UInt8]? {
        if file != nil { return nil }
        guard let stream else { return [] }
        return stream.takeIfComplete()
    }

    /// Trailer fields of a chunked body, available once `next()` has returned nil.
    public var trailers: HTTPFields { stream?.trailers ?? HTTPFields() }

    /// Caps how many bytes a reader may take (Caddy's `request_body.max_size`).
    public func limit(to maxBytes: Int) {
        guard let stream else { return }
        if let existing = stream.maxBytes { stream.maxBytes = min(existing, maxBytes) } else { stream.maxBytes = maxBytes }
    }
}

/// Loop-confined buffer between the connection (producer, asserted on the loop in debug builds)
/// and a handler (consumer, which hops to the loop).
final class BodyStream: @unchecked Sendable {
    let loop: EventLoop?
    /// Strong: a weak reference would give every connection a side table, making each of its
    /// retains slower. Connections drop their streams when they close, which ends the cycle;
    /// a source that must not be kept alive passes a `WeakBodySource`.
    @exclusivity(unchecked) var source: (any BodySource)?
    let knownLength: Int?
    @exclusivity(unchecked) private var chunks = ChunkQueue()
    @exclusivity(unchecked) private(set) var bufferedBytes = 0
    @exclusivity(unchecked) private(set) var isFinished = false
    @exclusivity(unchecked) private(set) var failure: (any Error)?
    @exclusivity(unchecked) private var waiter: UnsafeContinuation<[UInt8]?, any Error>?
    @exclusivity(unchecked) var consumed = 0
    @exclusivity(unchecked) var maxBytes: Int?
    @exclusivity(unchecked) var discarding = false
    @exclusivity(unchecked) var trailers = HTTPFields()

    static let lowWatermark = 64 * 1024
    static let highWatermark = 256 * 1024

    init(loop: EventLoop?, source: (any BodySource)?, knownLength: Int?) {
        self.loop = loop
        self.source = source
        self.knownLength = knownLength
    }

    var isOverHighWatermark: Bool { bufferedBytes >= Self.highWatermark }

    // Producer side (loop thread).

    func push(_ bytes: [UInt8]) {
        loop?.assertInEventLoop()
        if discarding { return }
        if let w = waiter {
            waiter = nil
            deliver(bytes, to: w)
            return
        }
        chunks.append(bytes)
        bufferedBytes += bytes.count
    }

    func finish() {
        loop?.assertInEventLoop()
        isFinished = true
        if let w = waiter { waiter = nil; w.resume(returning: nil) }
    }

    func fail(_ error: any Error) {
        loop?.assertInEventLoop()
        if isFinished { return }
        failure = error
        isFinished = true
        if let w = waiter { waiter = nil; w.resume(throwing: error) }
    }

    /// Drops what is buffered and everything still to come.
    func discard() {
        loop?.assertInEventLoop()
        discarding = true
        if bufferedBytes > 0 { source?.bodyConsumed(self, count: bufferedBytes) }
        chunks.removeAll()
        bufferedBytes = 0
    }

    // Consumer side.

    nonisolated(nonsending) func next() async throws -> [UInt8]? {
        if let loop, !loop.inEventLoop {
            return try await withUnsafeThrowingContinuation { c in loop.execute { self.nextOnLoop(c) } }
        }
        if !chunks.isEmpty {
            let chunk = take()
            try checkLimit(chunk.count)
            return chunk
        }
        if let failure { throw failure }
        if isFinished { return nil }
        return try await withUnsafeThrowingContinuation { c in nextOnLoop(c) }
    }

    private func nextOnLoop(_ c: UnsafeContinuation<[UInt8]?, any Error>) {
        if !chunks.isEmpty { deliver(take(), to: c); return }
        if let failure { c.resume(throwing: failure); return }
        if isFinished { c.resume(returning: nil); return }
        waiter = c
        source?.bodyReaderWaiting(self)
    }

    private func deliver(_ chunk: [UInt8], to c: UnsafeContinuation<[UInt8]?, any Error>) {
        source?.bodyConsumed(self, count: chunk.count)
        do { try checkLimit(chunk.count); c.resume(returning: chunk) } catch { c.resume(throwing: error) }
    }

    private func checkLimit(_ n: Int) throws {
        consumed += n
        if let maxBytes, consumed > maxBytes { throw HTTPError(413, "request body too large") }
    }

    func takeIfComplete() -> [UInt8]? {
        guard isFinished, failure == nil, consumed == 0, maxBytes == nil, trailers.isEmpty else { return nil }
        if let loop, !loop.inEventLoop { return nil }
        let all = chunks.removeAllJoined()
        bufferedBytes = 0
        consumed = all.count
        source?.bodyConsumed(self, count: all.count)
        return all
    }

    private func take() -> [UInt8] {
        let chunk = chunks.removeFirst()
        bufferedBytes -= chunk.count
        source?.bodyConsumed(self, count: chunk.count)
        if bufferedBytes < Self.lowWatermark { source?.bodyDrained(self) }
        return chunk
    }
}
