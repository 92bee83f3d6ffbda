/// Parses one complete request head (request line + fields) and decides its body framing.
enum HeadParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func parse(_ p: Bytes, lines: [Range<Int>]) throws(HTTP1ParseError) -> RequestHead {
        guard let requestLine = lines.first else { throw HTTP1ParseError(400, "empty request") }
        let (method, target, minor) = try parseRequestLine(p, requestLine)
        var headers = HTTPFields()
        var contentLength: Int?
        var transferCodings: [Substring] = []
        var hasTE = false
        var hostCount = 0
        var host = ""
        for line in lines.dropFirst() {
            let (name, value) = try field(p, line)
            if name.equalsIgnoringASCIICase("content-length") {
                guard contentLength == nil else { throw HTTP1ParseError(400, "repeated Content-Length") }
                contentLength = try parseContentLength(value)
            } else if name.equalsIgnoringASCIICase("transfer-encoding") {
                hasTE = true
                for coding in value.split(separator: ",", omittingEmptySubsequences: false) {
                    transferCodings.append(coding.trimmingOWS())
                }
            } else if name.equalsIgnoringASCIICase("host") {
                hostCount += 1
                host = value
            }
            headers.add(name, value)
        }
        var framing = RequestHead.Framing.none
        if hasTE {
            guard minor == 1 else { throw HTTP1ParseError(400, "Transfer-Encoding in HTTP/1.0") }
            guard contentLength == nil else { throw HTTP1ParseError(400, "both Content-Length and Transfer-Encoding") }
            guard let last = transferCodings.last, last.equalsIgnoringASCIICase("chunked") else {
                if transferCodings.contains(where: { $0.equalsIgnoringASCIICase("chunked") }) {
                    throw HTTP1ParseError(400, "chunked is not the final transfer coding")
                }
                if transferCodings.contains(where: { $0.isEmpty }) { throw HTTP1ParseError(400, "empty transfer coding") }
                throw HTTP1ParseError(501, "unsupported transfer coding")
            }
            guard transferCodings.count == 1 else {
                if transferCodings.dropLast().contains(where: { $0.equalsIgnoringASCIICase("chunked") || $0.isEmpty }) {
                    throw HTTP1ParseError(400, "chunked applied twice")
                }
                throw HTTP1ParseError(501, "unsupported transfer coding")
            }
            framing = .chunked
        } else if let contentLength {
            framing = .length(contentLength)
        }
        if minor == 1 && hostCount != 1 { throw HTTP1ParseError(400, hostCount == 0 ? "missing Host" : "repeated Host") }
        if minor == 0 && hostCount > 1 { throw HTTP1ParseError(400, "repeated Host") }
        if !isValidHost(host) { throw HTTP1ParseError(400, "invalid Host") }

        var rawPath: Substring
        var authority = host
        if target.first == "/" {
            rawPath = Substring(target)
        } else if target == "*" {
            guard method == "OPTIONS" else { throw HTTP1ParseError(400, "asterisk-form target") }
            rawPath = "*"
        } else if let (auth, path) = splitAbsoluteForm(target) {
            guard isValidHost(auth) else { throw HTTP1ParseError(400, "invalid authority") }
            authority = auth
            rawPath = path.isEmpty ? "/" : path
        } else {
            throw HTTP1ParseError(400, "invalid request target")
        }
        var query = ""
        var hasQuery = false
        if let q = rawPath.firstIndex(of: "?") {
            query = String(rawPath[rawPath.index(after: q)...])
            hasQuery = true
            rawPath = rawPath[..<q]
        }
        if let f = rawPath.firstIndex(of: "#") { rawPath = rawPath[..<f] }
        let connection = headers.values("connection")
        var keepAlive = minor == 1
        for value in connection {
            for token in value.split(separator: ",") {
                let t = token.trimmingOWS()
                if t.equalsIgnoringASCIICase("close") { keepAlive = false }
                else if minor == 0 && t.equalsIgnoringASCIICase("keep-alive") { keepAlive = true }
            }
        }
        let expect = headers["expect"]
        return RequestHead(
            method: method, target: target, rawPath: String(rawPath), query: query, hasQuery: hasQuery,
            minorVersion: minor, headers: headers, authority: authority, framing: framing, keepAlive: keepAlive,
            expectContinue: minor == 1 && expect?.equalsIgnoringASCIICase("100-continue") == true)
    }

    private static func parseRequestLine(_ p: Bytes, _ line: Range<Int>) throws(HTTP1ParseError) -> (String, String, Int) {
        var i = line.lowerBound
        while i < line.upperBound && Token.isTChar(p[i]) { i += 1 }
        guard i > line.lowerBound, i < line.upperBound, p[i] == 32 else { throw HTTP1ParseError(400, "invalid method") }
        let method = String(decoding: UnsafeBufferPointer(rebasing: p[line.lowerBound..<i]), as: UTF8.self)
        i += 1
        let targetStart = i
        while i < line.upperBound && p[i] > 32 && p[i] < 127 { i += 1 }
        guard i > targetStart, i < line.upperBound, p[i] == 32 else { throw HTTP1ParseError(400, "invalid request target") }
        let target = String(decoding: UnsafeBufferPointer(rebasing: p[targetStart..<i]), as: UTF8.self)
        i += 1
        guard line.upperBound - i == 8,
              p[i] == 72, p[i + 1] == 84, p[i + 2] == 84, p[i + 3] == 80, p[i + 4] == 47, p[i + 6] == 46,
              p[i + 5] >= 48, p[i + 5] <= 57, p[i + 7] >= 48, p[i + 7] <= 57
        else { throw HTTP1ParseError(400, "invalid HTTP version") }
        guard p[i + 5] == 49 else { throw HTTP1ParseError(505, "unsupported HTTP version") }
        return (method, target, p[i + 7] == 48 ? 0 : 1)
    }

    /// One `name: value` line, validated; the value without surrounding whitespace.
    static func field(_ p: Bytes, _ line: Range<Int>) throws(HTTP1ParseError) -> (String, String) {
        var i = line.lowerBound
        while i < line.upperBound && Token.isTChar(p[i]) { i += 1 }
        guard i > line.lowerBound else {
            throw HTTP1ParseError(400, p[line.lowerBound] == 32 || p[line.lowerBound] == 9 ? "obsolete line folding" : "invalid header name")
        }
        guard i < line.upperBound, p[i] == UInt8(ascii: ":") else { throw HTTP1ParseError(400, "invalid header name") }
        let name = String(decoding: UnsafeBufferPointer(rebasing: p[line.lowerBound..<i]), as: UTF8.self)
        i += 1
        var end = line.upperBound
        while i < end && (p[i] == 32 || p[i] == 9) { i += 1 }
        while end > i && (p[end - 1] == 32 || p[end - 1] == 9) { end -= 1 }
        for j in i..<end where !Token.isFieldValueByte(p[j]) { throw HTTP1ParseError(400, "invalid header value") }
        return (name, String(decoding: UnsafeBufferPointer(rebasing: p[i..<end]), as: UTF8.self))
    }

    private static func parseContentLength(_ value: String) throws(HTTP1ParseError) -> Int {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(value)
        else { throw HTTP1ParseError(400, "invalid Content-Length") }
        return n
    }

    /// `host [":" port]`: reg-name characters or an IP literal; nothing that could break out of a URL.
    static func isValidHost(_ host: String) -> Bool {
        for b in host.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"),
                 UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                 UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
                 UInt8(ascii: "="): continue
            default: return false
            }
        }
        return true
    }

    /// `http://authority/path?query` → (authority, "/path?query").
    private static func splitAbsoluteForm(_ target: String) -> (String, Substring)? {
        let lower = target.prefix(8).asciiLowercased()
        let rest: Substring
        if lower.hasPrefix("http://") { rest = target.dropFirst(7) }
        else if lower.hasPrefix("https://") { rest = target.dropFirst(8) }
        else { return nil }
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<slash]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var path = rest[slash...]
        if path.first == "?" { path = Substring("/" + path) }
        return (String(authority), path)
    }
}
