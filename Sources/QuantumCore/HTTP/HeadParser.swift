/// Parses one complete request head (request line + fields) and decides its body framing.
///
/// Works on the raw bytes: header names that affect framing are recognised without building
/// strings, and each field's name and value become a `String` once.
enum HeadParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// - Parameters:
    ///   - lines: the block's lines relative to `offset`, request line first.
    static func parse(_ p: Bytes, lines: [Range<Int>], offset: Int) throws(HTTP1ParseError) -> RequestHead {
        guard let first = lines.first else { throw HTTP1ParseError(400, "empty request") }
        let requestLine = (first.lowerBound + offset)..<(first.upperBound + offset)
        let (method, targetRange, minor) = try parseRequestLine(p, requestLine)
        var headers = HTTPFields(capacity: lines.count - 1)
        var contentLength: Int?
        var transferEncoding: [Range<Int>] = []
        var hostCount = 0
        var hostRange = 0..<0
        var sawClose = false
        var sawKeepAlive = false
        var expectContinue = false
        var hasUpgrade = false
        for relative in lines.dropFirst() {
            let line = (relative.lowerBound + offset)..<(relative.upperBound + offset)
            let (name, value) = try fieldRanges(p, line)
            switch name.count {
            case 4 where equals(p, name, "host"):
                hostCount += 1
                hostRange = value
                guard isValidHost(p, value) else { throw HTTP1ParseError(400, "invalid Host") }
            case 6 where equals(p, name, "expect"):
                expectContinue = equals(p, value, "100-continue")
            case 7 where equals(p, name, "upgrade"):
                hasUpgrade = true
            case 10 where equals(p, name, "connection"):
                forEachToken(p, value) { token in
                    if equals(p, token, "close") { sawClose = true }
                    else if equals(p, token, "keep-alive") { sawKeepAlive = true }
                }
            case 14 where equals(p, name, "content-length"):
                guard contentLength == nil else { throw HTTP1ParseError(400, "repeated Content-Length") }
                contentLength = try parseContentLength(p, value)
            case 17 where equals(p, name, "transfer-encoding"):
                transferEncoding.append(value)
            default:
                break
            }
            headers.add(string(p, name), string(p, value))
        }
        // `close` wins; HTTP/1.0 stays open only when asked.
        let keepAlive = !sawClose && (minor == 1 || sawKeepAlive)
        var framing = RequestHead.Framing.none
        if !transferEncoding.isEmpty {
            guard minor == 1 else { throw HTTP1ParseError(400, "Transfer-Encoding in HTTP/1.0") }
            guard contentLength == nil else { throw HTTP1ParseError(400, "both Content-Length and Transfer-Encoding") }
            framing = try transferFraming(p, transferEncoding)
        } else if let contentLength {
            framing = .length(contentLength)
        }
        if minor == 1 && hostCount != 1 { throw HTTP1ParseError(400, hostCount == 0 ? "missing Host" : "repeated Host") }
        if minor == 0 && hostCount > 1 { throw HTTP1ParseError(400, "repeated Host") }

        var authority = hostCount == 1 ? string(p, hostRange) : ""
        var pathStart = targetRange.lowerBound
        if p[pathStart] != UInt8(ascii: "/") {
            if targetRange.count == 1 && p[pathStart] == UInt8(ascii: "*") {
                guard method == "OPTIONS" else { throw HTTP1ParseError(400, "asterisk-form target") }
            } else {
                let (auth, rest) = try splitAbsoluteForm(p, targetRange)
                authority = string(p, auth)
                headers.set("Host", authority)  // RFC 9112 §3.2.2: the target's authority wins
                pathStart = rest
            }
        }
        var pathEnd = targetRange.upperBound
        var i = pathStart
        while i < targetRange.upperBound {
            if p[i] == UInt8(ascii: "#") { pathEnd = i; break }
            i += 1
        }
        var queryStart = pathEnd
        i = pathStart
        while i < pathEnd {
            if p[i] == UInt8(ascii: "?") { queryStart = i; break }
            i += 1
        }
        let rawPath = pathStart == queryStart ? "/" : string(p, pathStart..<queryStart)
        let hasQuery = queryStart < pathEnd
        let query = hasQuery ? string(p, (queryStart + 1)..<pathEnd) : ""
        // The usual origin-form target without a query is the path itself: one string, not two.
        let target = pathStart == targetRange.lowerBound && queryStart == targetRange.upperBound && pathStart < queryStart
            ? rawPath : string(p, targetRange)
        return RequestHead(
            method: method, target: target, rawPath: rawPath, query: query, hasQuery: hasQuery,
            minorVersion: minor, headers: headers, authority: authority, framing: framing, keepAlive: keepAlive,
            expectContinue: minor == 1 && expectContinue, hasUpgrade: hasUpgrade)
    }

    // MARK: - Pieces

    @inline(__always) static func string(_ p: Bytes, _ r: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: p[r]), as: UTF8.self)
    }

    /// ASCII case-insensitive comparison of two ranges of `p`.
    static func equalsIgnoringCase(_ p: Bytes, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        a.count == b.count && ASCII.equalIgnoringCase(UnsafeBufferPointer(rebasing: p[a]), UnsafeBufferPointer(rebasing: p[b]))
    }

    /// ASCII case-insensitive comparison of bytes with a lowercase literal of letters, digits and `-`.
    @inline(__always) static func equals(_ p: Bytes, _ r: Range<Int>, _ lower: StaticString) -> Bool {
        guard r.count == lower.utf8CodeUnitCount else { return false }
        let s = lower.utf8Start
        var i = 0
        while i < r.count {
            if p[r.lowerBound + i] | 0x20 != s[i] { return false }
            i += 1
        }
        return true
    }

    /// Calls `body` with each comma-separated token of a field value, trimmed of whitespace.
    static func forEachToken(_ p: Bytes, _ r: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = r.lowerBound
        while start <= r.upperBound {
            var end = start
            while end < r.upperBound && p[end] != UInt8(ascii: ",") { end += 1 }
            var a = start, b = end
            while a < b && (p[a] == 32 || p[a] == 9) { a += 1 }
            while b > a && (p[b - 1] == 32 || p[b - 1] == 9) { b -= 1 }
            body(a..<b)
            start = end + 1
        }
    }

    private static func transferFraming(_ p: Bytes, _ values: [Range<Int>]) throws(HTTP1ParseError) -> RequestHead.Framing {
        var codings: [Range<Int>] = []
        for v in values { forEachToken(p, v) { codings.append($0) } }
        let isChunked = { (r: Range<Int>) in equals(p, r, "chunked") }
        guard let last = codings.last, isChunked(last) else {
            if codings.contains(where: isChunked) { throw HTTP1ParseError(400, "chunked is not the final transfer coding") }
            if codings.contains(where: { $0.isEmpty }) { throw HTTP1ParseError(400, "empty transfer coding") }
            throw HTTP1ParseError(501, "unsupported transfer coding")
        }
        guard codings.count == 1 else {
            if codings.dropLast().contains(where: { isChunked($0) || $0.isEmpty }) { throw HTTP1ParseError(400, "chunked applied twice") }
            throw HTTP1ParseError(501, "unsupported transfer coding")
        }
        return .chunked
    }

    private static func parseRequestLine(_ p: Bytes, _ line: Range<Int>) throws(HTTP1ParseError) -> (String, Range<Int>, Int) {
        var i = line.lowerBound
        while i < line.upperBound && Token.isTChar(p[i]) { i += 1 }
        guard i > line.lowerBound, i < line.upperBound, p[i] == 32 else { throw HTTP1ParseError(400, "invalid method") }
        let method = string(p, line.lowerBound..<i)
        i += 1
        let targetStart = i
        while i < line.upperBound && p[i] > 32 && p[i] < 127 { i += 1 }
        guard i > targetStart, i < line.upperBound, p[i] == 32 else { throw HTTP1ParseError(400, "invalid request target") }
        let target = targetStart..<i
        i += 1
        guard line.upperBound - i == 8,
              p[i] == 72, p[i + 1] == 84, p[i + 2] == 84, p[i + 3] == 80, p[i + 4] == 47, p[i + 6] == 46,
              p[i + 5] >= 48, p[i + 5] <= 57, p[i + 7] >= 48, p[i + 7] <= 57
        else { throw HTTP1ParseError(400, "invalid HTTP version") }
        guard p[i + 5] == 49 else { throw HTTP1ParseError(505, "unsupported HTTP version") }
        return (method, target, p[i + 7] == 48 ? 0 : 1)
    }

    /// The name and trimmed value of one `name: value` line, validated.
    static func fieldRanges(_ p: Bytes, _ line: Range<Int>) throws(HTTP1ParseError) -> (Range<Int>, Range<Int>) {
        var i = line.lowerBound
        while i < line.upperBound && Token.isTChar(p[i]) { i += 1 }
        guard i > line.lowerBound else {
            throw HTTP1ParseError(400, p[line.lowerBound] == 32 || p[line.lowerBound] == 9 ? "obsolete line folding" : "invalid header name")
        }
        guard i < line.upperBound, p[i] == UInt8(ascii: ":") else { throw HTTP1ParseError(400, "invalid header name") }
        let name = line.lowerBound..<i
        i += 1
        var end = line.upperBound
        while i < end && (p[i] == 32 || p[i] == 9) { i += 1 }
        while end > i && (p[end - 1] == 32 || p[end - 1] == 9) { end -= 1 }
        var j = i
        if let base = p.baseAddress {
            // Eight bytes at a time while none is a control byte or DEL; a word with one (a tab,
            // perhaps) is judged byte by byte below.
            while j + 8 <= end {
                let word = ByteWord.load(base + j)
                if ByteWord.below(word, 0x20) | ByteWord.equal(word, 0x7f) != 0 { break }
                j += 8
            }
        }
        while j < end {
            if !Token.isFieldValueByte(p[j]) { throw HTTP1ParseError(400, "invalid header value") }
            j += 1
        }
        return (name, i..<end)
    }

    /// One field as strings (trailers).
    static func field(_ p: Bytes, _ line: Range<Int>) throws(HTTP1ParseError) -> (String, String) {
        let (name, value) = try fieldRanges(p, line)
        return (string(p, name), string(p, value))
    }

    private static func parseContentLength(_ p: Bytes, _ r: Range<Int>) throws(HTTP1ParseError) -> Int {
        guard !r.isEmpty, r.count <= 18 else { throw HTTP1ParseError(400, "invalid Content-Length") }
        var n = 0
        for i in r {
            let b = p[i]
            guard b >= 48 && b <= 57 else { throw HTTP1ParseError(400, "invalid Content-Length") }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// `host [":" port]`: reg-name characters or an IP literal; nothing that could break out of a URL.
    static func isValidHost(_ p: Bytes, _ r: Range<Int>) -> Bool {
        for i in r where !hostByte[Int(p[i])] { return false }
        return true
    }

    private static let hostByte: [Bool] = (0..<256).map { b in
        switch UInt8(b) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "-._:[]~%!$&'()*+,;=".utf8.contains(UInt8(b))
        }
    }

    /// `http://authority/path?query` → (authority, index where the path starts).
    private static func splitAbsoluteForm(_ p: Bytes, _ target: Range<Int>) throws(HTTP1ParseError) -> (Range<Int>, Int) {
        var i = target.lowerBound
        if target.count > 7 && equals(p, i..<(i + 7), "http://") { i += 7 }
        else if target.count > 8 && equals(p, i..<(i + 8), "https://") { i += 8 }
        else { throw HTTP1ParseError(400, "invalid request target") }
        let authStart = i
        while i < target.upperBound && p[i] != UInt8(ascii: "/") && p[i] != UInt8(ascii: "?") {
            if p[i] == UInt8(ascii: "@") { throw HTTP1ParseError(400, "userinfo in request target") }
            i += 1
        }
        guard i > authStart, isValidHost(p, authStart..<i) else { throw HTTP1ParseError(400, "invalid authority") }
        return (authStart..<i, i)
    }
}
