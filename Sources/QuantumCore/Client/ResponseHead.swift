/// What an HTTP/1.1 status line and header block say, parsed and validated (client side).
package struct ResponseHead: Sendable, Equatable {
    public enum Framing: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
        /// No length given: the body runs until the server closes the connection.
        case untilClose
    }

    public var status: Int
    public var reason: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPFields
    /// The fields as bytes instead of `headers` (which is then empty), when the exchange asked
    /// for them (`FieldBlock`).
    public var fieldBlock: FieldBlock?
    public var framing: Framing
    /// The server keeps the connection open after this response.
    public var keepAlive: Bool
}

/// Parses one complete response head. Framing follows RFC 9112 §6.3: replies to HEAD, 1xx, 204
/// and 304 have no body; `chunked` last wins; a Content-Length must be one consistent number.
enum ResponseHeadParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func parse(_ p: Bytes, lines: [Range<Int>], offset: Int, bodiless: Bool,
                      forwarding filter: FieldBlock.Filter? = nil) throws(HTTP1ParseError) -> ResponseHead {
        guard let first = lines.first else { throw HTTP1ParseError(502, "empty response") }
        let line = (first.lowerBound + offset)..<(first.upperBound + offset)
        // "HTTP/1.x SP 3DIGIT SP reason" (the space before an empty reason is optional in practice).
        guard line.count >= 12, HeadParser.equals(p, line.lowerBound..<(line.lowerBound + 7), "http/1."),
              p[line.lowerBound + 7] == 48 || p[line.lowerBound + 7] == 49, p[line.lowerBound + 8] == 32
        else { throw HTTP1ParseError(502, "malformed status line") }
        let minor = Int(p[line.lowerBound + 7] - 48)
        var status = 0
        for i in (line.lowerBound + 9)..<(line.lowerBound + 12) {
            guard p[i] >= 48 && p[i] <= 57 else { throw HTTP1ParseError(502, "malformed status code") }
            status = status * 10 + Int(p[i] - 48)
        }
        guard status >= 100 else { throw HTTP1ParseError(502, "malformed status code") }
        var reasonStart = line.lowerBound + 12
        if reasonStart < line.upperBound {
            guard p[reasonStart] == 32 else { throw HTTP1ParseError(502, "malformed status line") }
            reasonStart += 1
        }
        for i in reasonStart..<line.upperBound where !Token.isFieldValueByte(p[i]) { throw HTTP1ParseError(502, "malformed reason phrase") }

        var headers = HTTPFields(capacity: filter == nil ? lines.count - 1 : 0)
        var block = filter.map { _ in FieldBlock(capacity: (lines.last?.upperBound ?? 0) - first.upperBound) }
        // Fields `Connection` names are connection-specific: left out of a block (they may come
        // before `Connection` itself, so it is read first).
        var listed: [Range<Int>] = []
        if block != nil {
            for relative in lines.dropFirst() {
                let fieldLine = (relative.lowerBound + offset)..<(relative.upperBound + offset)
                // Only `Connection:` lines are validated here (all are, below).
                guard fieldLine.count > 10, p[fieldLine.lowerBound + 10] == UInt8(ascii: ":"),
                      HeadParser.equals(p, fieldLine.lowerBound..<(fieldLine.lowerBound + 10), "connection"),
                      let (_, value) = try? HeadParser.fieldRanges(p, fieldLine) else { continue }
                HeadParser.forEachToken(p, value) { token in
                    if !HeadParser.equals(p, token, "close") && !HeadParser.equals(p, token, "keep-alive")
                        && !HeadParser.equals(p, token, "upgrade") { listed.append(token) }
                }
            }
        }
        var contentLength: Int?
        var codings: [Bool] = []  // per transfer coding: is it `chunked`
        // Kept lines already in their outgoing form, not yet copied (CRLFs included).
        var run = 0..<0
        var runLines = 0
        var sawClose = false
        var sawKeepAlive = false
        for relative in lines.dropFirst() {
            let fieldLine = (relative.lowerBound + offset)..<(relative.upperBound + offset)
            let (name, value): (Range<Int>, Range<Int>)
            do { (name, value) = try HeadParser.fieldRanges(p, fieldLine) } catch { throw HTTP1ParseError(502, error.reason) }
            switch name.count {
            case 10 where HeadParser.equals(p, name, "connection"):
                HeadParser.forEachToken(p, value) { token in
                    if HeadParser.equals(p, token, "close") { sawClose = true }
                    else if HeadParser.equals(p, token, "keep-alive") { sawKeepAlive = true }
                }
            case 14 where HeadParser.equals(p, name, "content-length"):
                // Repeats are tolerated only when they agree ("5, 5" too), as RFC 9110 §8.6 allows.
                var bad = false
                HeadParser.forEachToken(p, value) { token in
                    guard let n = number(p, token), contentLength == nil || contentLength == n else { bad = true; return }
                    contentLength = n
                }
                if bad || contentLength == nil { throw HTTP1ParseError(502, "invalid Content-Length") }
            case 17 where HeadParser.equals(p, name, "transfer-encoding"):
                HeadParser.forEachToken(p, value) { token in codings.append(HeadParser.equals(p, token, "chunked")) }
            default:
                break
            }
            if let filter {
                // What the writer frames itself goes, whatever the filter says.
                switch name.count {
                case 10 where HeadParser.equals(p, name, "connection"): continue
                case 14 where HeadParser.equals(p, name, "content-length"): continue
                case 17 where HeadParser.equals(p, name, "transfer-encoding"): continue
                default: break
                }
                let kept = !filter(UnsafeBufferPointer(rebasing: p[name]))
                    && (listed.isEmpty || !listed.contains(where: { HeadParser.equalsIgnoringCase(p, name, $0) }))
                let verbatim = kept && value.lowerBound == name.upperBound + 2 && p[name.upperBound + 1] == 32
                    && value.upperBound == fieldLine.upperBound
                // A run ends at a line that is not copied as it stands or does not follow it.
                if runLines > 0 && !(verbatim && run.upperBound == fieldLine.lowerBound) {
                    block!.appendVerbatim(p, run, count: runLines)
                    runLines = 0
                }
                if verbatim {
                    if runLines == 0 { run = fieldLine.lowerBound..<fieldLine.lowerBound }
                    run = run.lowerBound..<(fieldLine.upperBound + 2)
                    runLines += 1
                    block!.note(p, name: name)
                } else if kept {
                    block!.append(p, name: name, value: value)
                }
            } else {
                headers.add(HeadParser.string(p, name), HeadParser.string(p, value))
            }
        }
        if runLines > 0 { block!.appendVerbatim(p, run, count: runLines) }
        block?.contentLength = contentLength
        let keepAlive = !sawClose && (minor == 1 || sawKeepAlive)
        let framing: ResponseHead.Framing
        if bodiless || status < 200 || status == 204 || status == 304 {
            framing = .none
        } else if !codings.isEmpty {
            // Transfer-Encoding overrides Content-Length; without chunked the body reads to close.
            if codings == [true] { framing = .chunked }
            else if !codings.contains(true) { framing = .untilClose }
            else { throw HTTP1ParseError(502, "unsupported transfer coding") }
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .untilClose
        }
        return ResponseHead(status: status, reason: HeadParser.string(p, reasonStart..<line.upperBound), minorVersion: minor,
                            headers: headers, fieldBlock: block, framing: framing, keepAlive: keepAlive && framing != .untilClose)
    }

    private static func number(_ p: Bytes, _ r: Range<Int>) -> Int? {
        guard !r.isEmpty, r.count <= 18 else { return nil }
        var n = 0
        for i in r {
            guard p[i] >= 48 && p[i] <= 57 else { return nil }
            n = n * 10 + Int(p[i] - 48)
        }
        return n
    }
}
