import Glibc

/// Limits the HTTP/1 decoder enforces.
package struct HTTP1Limits: Sendable {
    /// The request line plus header block (and, separately, the trailer block).
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxHeaderCount: Int = 256
    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 256) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }
}

/// An incremental, strict HTTP/1.1 decoder (RFC 9112) of requests, or of responses for the
/// client side.
///
/// Feed it bytes in any split; it yields the same events. Anything ambiguous that could be
/// used for request smuggling is an error, never a guess.
package struct HTTP1Decoder: Sendable {
    public enum Event: Equatable, Sendable {
        case head(RequestHead)
        /// A response head (response mode; informational 1xx other than 101 are skipped).
        case response(ResponseHead)
        case body([UInt8])
        /// The end of a message body (also sent for messages without one), with its trailers.
        case end(HTTPFields)
    }

    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case endPending
        /// `endPending` after a request head without a body (`skipEndOfBodilessHead`).
        case endOfBodiless
        case failed(HTTP1ParseError)
    }

    public var limits: HTTP1Limits
    /// Decodes responses instead of requests.
    public let decodesResponses: Bool
    /// Response mode: the next response answers a HEAD request, so it has no body.
    public var nextResponseIsBodiless = false
    /// Response mode: the next response's fields go into a `FieldBlock`, less those this drops.
    public var nextResponseFieldFilter: FieldBlock.Filter?
    private var buffer: [UInt8] = []
    private var start = 0
    /// Header-block scan progress, relative to `start`, so a slow sender costs linear time.
    private var blockLines: [Range<Int>] = []
    private var blockLineStart = 0
    private var blockScanned = 0
    private var state: State = .head

    public init(limits: HTTP1Limits = HTTP1Limits(), decodesResponses: Bool = false) {
        self.limits = limits
        self.decodesResponses = decodesResponses
        buffer.reserveCapacity(4096)
    }

    /// Bytes received but not yet decoded.
    public var bufferedByteCount: Int { buffer.count - start }

    /// True between requests with nothing buffered: a clean place to close a connection.
    public var isIdle: Bool { if case .head = state { return start == buffer.count } else { return false } }

    /// True while a request's head has been partly received.
    public var isReadingHead: Bool { if case .head = state { return start < buffer.count } else { return false } }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true); start = 0
        } else if start > 16 * 1024 {
            buffer.removeSubrange(0..<start); start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The raw bytes not yet decoded, without taking them (protocol detection).
    public var undecoded: ArraySlice<UInt8> { buffer[start...] }

    /// Takes the raw bytes not yet decoded (used when a connection switches protocols).
    public mutating func takeRemaining() -> [UInt8] {
        let rest = Array(buffer[start...])
        buffer.removeAll(keepingCapacity: false); start = 0; resetBlock()
        return rest
    }

    /// The peer closed its side: ends a body that runs until close, else nil (a truncated
    /// message is the caller's error to report).
    public mutating func inputEnded() -> Event? {
        guard case .untilClose = state else { return nil }
        state = .head; resetBlock()
        return .end(HTTPFields())
    }

    /// Right after a head whose body has a known length: the whole body, when all of it is
    /// already buffered, taken at once. The message is then over (no `.body` or `.end` event
    /// follows). Nil, taking nothing, otherwise.
    public mutating func takeWholeBody() -> [UInt8]? {
        guard case .fixed(let remaining) = state, buffer.count - start >= remaining else { return nil }
        let body = Array(buffer[start..<start + remaining])
        start += remaining
        state = .head
        resetBlock()
        return body
    }

    /// Right after a head without a body (`Framing.none`): skips the `.end` event that would
    /// follow, which tells nothing the head did not. A server that answers the request at once
    /// (or promises to) then finds the decoder between messages. Does nothing after any other head.
    public mutating func skipEndOfBodilessHead() {
        guard case .endOfBodiless = state else { return }
        state = .head
    }

    /// True while a response body runs until the connection closes.
    public var readsUntilClose: Bool { if case .untilClose = state { return true } else { return false } }

    /// The next event, nil when more bytes are needed. Errors are sticky.
    public mutating func next() throws(HTTP1ParseError) -> Event? {
        if case .failed(let e) = state { throw e }
        do { return try step() } catch { state = .failed(error); throw error }
    }

    private mutating func step() throws(HTTP1ParseError) -> Event? {
        switch state {
        case .failed(let e): throw e
        case .head: return try decodeHead()
        case .fixed(let remaining):
            let n = min(remaining, buffer.count - start)
            if n == 0 { return nil }
            let chunk = Array(buffer[start..<start + n])
            start += n
            state = remaining == n ? .endPending : .fixed(remaining: remaining - n)
            return .body(chunk)
        case .endPending, .endOfBodiless:
            state = .head; resetBlock()
            return .end(HTTPFields())
        case .chunkSize: return try decodeChunkSize()
        case .chunkData(let remaining):
            let n = min(remaining, buffer.count - start)
            if n == 0 { return nil }
            let chunk = Array(buffer[start..<start + n])
            start += n
            state = remaining == n ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            return .body(chunk)
        case .chunkDataEnd:
            guard buffer.count - start >= 2 else { return nil }
            guard buffer[start] == 13, buffer[start + 1] == 10 else { throw HTTP1ParseError(400, "missing CRLF after chunk data") }
            start += 2; resetBlock()
            state = .chunkSize
            return try step()
        case .trailers: return try decodeTrailers()
        case .untilClose:
            guard buffer.count > start else { return nil }
            let chunk = Array(buffer[start...])
            start = buffer.count
            return .body(chunk)
        }
    }

    // MARK: - Lines

    private mutating func resetBlock() {
        blockLines.removeAll(keepingCapacity: true)
        blockLineStart = 0
        blockScanned = 0
    }

    /// Scans on from where the last call stopped for the empty line that ends a header block,
    /// collecting its lines (relative to `start`) in `blockLines`. Returns the absolute end index,
    /// or nil for more. The lines stay in place so resetting them reuses their storage.
    private mutating func findBlockEnd(limit: Int, status: Int) throws(HTTP1ParseError) -> Int? {
        let count = buffer.count - start
        if count == 0 { return nil }
        var i = blockScanned
        var end: Int?
        try buffer.withUnsafeBufferPointer { (all) throws(HTTP1ParseError) in
            guard let base = all.baseAddress.map({ $0 + start }) else { return }
            while i < count {
                let scanEnd = min(count, limit)
                guard i < scanEnd else { throw HTTP1ParseError(status, "header block too large") }
                let k = Self.lineBreak(base, from: i, to: scanEnd)
                if k == scanEnd {
                    i = scanEnd
                    if scanEnd == limit && count > limit { throw HTTP1ParseError(status, "header block too large") }
                    return
                }
                // A line ends in CR LF; a CR or LF on its own is refused.
                guard base[k] == 13 else { throw HTTP1ParseError(400, "bare LF in header block") }
                if k + 1 == scanEnd {
                    // The byte after the CR is still to come, or past the limit.
                    if scanEnd == limit && count > limit { throw HTTP1ParseError(status, "header block too large") }
                    i = k
                    return
                }
                guard base[k + 1] == 10 else { throw HTTP1ParseError(400, "bare CR in header block") }
                let line = blockLineStart..<k
                if line.isEmpty { end = start + k + 2; return }
                blockLines.append(line)
                if blockLines.count > limits.maxHeaderCount + 1 { throw HTTP1ParseError(431, "too many header fields") }
                blockLineStart = k + 2
                i = k + 2
            }
        }
        if let end { return end }
        blockScanned = i
        if count >= limit { throw HTTP1ParseError(status, "header block too large") }
        return nil
    }

    /// The index of the first CR or LF in `base[from..<end]`, or `end`: eight bytes at a time
    /// (header lines are short, so this beats two `memchr` calls per line).
    @inline(__always)
    private static func lineBreak(_ base: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        while i + 8 <= end {
            let word = ByteWord.load(base + i)
            let found = ByteWord.equal(word, 13) | ByteWord.equal(word, 10)
            if found != 0 { return i + ByteWord.firstFlagged(found) }
            i += 8
        }
        while i < end && base[i] != 13 && base[i] != 10 { i += 1 }
        return i
    }

    private mutating func decodeHead() throws(HTTP1ParseError) -> Event? {
        if blockScanned == 0 {
            while buffer.count - start >= 2 && buffer[start] == 13 && buffer[start + 1] == 10 { start += 2 }
            guard buffer.count > start, !(buffer.count - start == 1 && buffer[start] == 13) else { return nil }
        }
        // Quick reject for a line that cannot start a message.
        if !Token.isTChar(buffer[start]) { throw HTTP1ParseError(decodesResponses ? 502 : 400, "invalid start line") }
        guard let end = try findBlockEnd(limit: limits.maxHeaderBytes, status: decodesResponses ? 502 : 431) else { return nil }
        if decodesResponses { return try decodeResponseHead(end: end) }
        let head = try buffer.withUnsafeBufferPointer { (p) throws(HTTP1ParseError) -> RequestHead in
            try HeadParser.parse(p, lines: blockLines, offset: start)
        }
        start = end
        resetBlock()
        switch head.framing {
        case .none: state = .endOfBodiless
        case .length(let n): state = n == 0 ? .endPending : .fixed(remaining: n)
        case .chunked: state = .chunkSize
        }
        return .head(head)
    }

    private mutating func decodeResponseHead(end: Int) throws(HTTP1ParseError) -> Event? {
        let bodiless = nextResponseIsBodiless, filter = nextResponseFieldFilter
        let head = try buffer.withUnsafeBufferPointer { (p) throws(HTTP1ParseError) -> ResponseHead in
            try ResponseHeadParser.parse(p, lines: blockLines, offset: start, bodiless: bodiless, forwarding: filter)
        }
        start = end
        resetBlock()
        if head.status < 200 && head.status != 101 { return try step() }  // 100 Continue, 103 Early Hints
        switch head.framing {
        case .none: state = .endPending
        case .length(let n): state = .fixed(remaining: n)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
        return .response(head)
    }

    private mutating func decodeChunkSize() throws(HTTP1ParseError) -> Event? {
        var i = start
        while i < buffer.count && buffer[i] != 10 {
            if i - start > 4096 { throw HTTP1ParseError(400, "chunk size line too long") }
            i += 1
        }
        guard i < buffer.count else {
            if buffer.count - start > 4096 { throw HTTP1ParseError(400, "chunk size line too long") }
            return nil
        }
        guard i > start, buffer[i - 1] == 13 else { throw HTTP1ParseError(400, "bad chunk size line ending") }
        var size = 0
        var digits = 0
        var j = start
        while j < i - 1, let v = Token.hexValue(buffer[j]) {
            if digits >= 15 { throw HTTP1ParseError(400, "chunk size too large") }
            size = size << 4 | v
            digits += 1
            j += 1
        }
        guard digits > 0 else { throw HTTP1ParseError(400, "invalid chunk size") }
        // chunk-ext: BWS ";" ... ; no control characters.
        while j < i - 1 && (buffer[j] == 32 || buffer[j] == 9) { j += 1 }
        if j < i - 1 {
            guard buffer[j] == UInt8(ascii: ";") else { throw HTTP1ParseError(400, "invalid chunk size") }
            while j < i - 1 {
                let b = buffer[j]
                if b < 32 && b != 9 || b == 127 { throw HTTP1ParseError(400, "invalid chunk extension") }
                j += 1
            }
        }
        start = i + 1
        resetBlock()
        state = size == 0 ? .trailers : .chunkData(remaining: size)
        return try step()
    }

    private mutating func decodeTrailers() throws(HTTP1ParseError) -> Event? {
        guard let end = try findBlockEnd(limit: limits.maxHeaderBytes, status: 431) else { return nil }
        var trailers = HTTPFields()
        try buffer.withUnsafeBufferPointer { (p) throws(HTTP1ParseError) in
            for line in blockLines {
                let (name, value) = try HeadParser.field(p, (line.lowerBound + start)..<(line.upperBound + start))
                trailers.add(name, value)
            }
        }
        start = end
        resetBlock()
        state = .head
        return .end(trailers)
    }
}
