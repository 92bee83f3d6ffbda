/// Writes HTTP/1.1 responses as bytes — the counterpart of `HTTP1Decoder`, with no socket: the
/// status line, the handler's fields (framing fields dropped: the encoder frames the body), a
/// `Server` and `Date` unless given, then `Content-Length`, chunked encoding or close-delimiting
/// as RFC 9112 §6 asks, and small bodies in the same buffer.
enum HTTP1ResponseEncoder {
    /// How a response head frames its body.
    struct Framing: Equatable {
        var chunked = false
        var closeAfter = false
        /// Nothing of the body is left once the head is written (none to send, or small bytes
        /// copied in with it).
        var bodyWritten = false
        /// The body's bytes go in the head's buffer.
        var bodyInHead = false
    }

    /// Bodies up to this size are copied in with the head (one write).
    static let inlineBodyLimit = 8192

    /// How `response` is framed, answering a request of HTTP/1.`minorVersion`.
    static func framing(of response: Response, isHead: Bool, minorVersion: Int, keepAlive: Bool) -> Framing {
        let status = response.status
        let bodyless = isHead || status < 200 || status == 204 || status == 304
        var framing = Framing(closeAfter: !keepAlive, bodyWritten: bodyless)
        if status >= 200 && status != 204 && status != 304 && response.body.knownLength == nil {
            if minorVersion == 1 { framing.chunked = !isHead } else { framing.closeAfter = true }
        }
        if !bodyless {
            switch response.body {
            case .empty: framing.bodyWritten = true
            case .bytes(let b) where b.count < inlineBodyLimit: framing.bodyWritten = true; framing.bodyInHead = true
            default: break
            }
        }
        return framing
    }

    /// Appends the head (and the body, when `framing.bodyWritten` and it has bytes) to `buf`.
    /// `date` is the loop's current `Date` value.
    static func appendHead(_ response: Response, framing: Framing, minorVersion: Int, date: [UInt8], to buf: inout [UInt8]) {
        let status = response.status
        appendStatusLine(status, to: &buf)
        var hasDate = false, hasServer = false
        if let block = response.forwardedFields {
            buf.append(contentsOf: block.bytes)
            hasDate = block.hasDate
            hasServer = block.hasServer
        }
        for field in response.headers {
            let name = field.name
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("date"): hasDate = true
            case 6 where name.equalsIgnoringASCIICase("server"): hasServer = true
            case 10 where status != 101 && name.equalsIgnoringASCIICase("connection"): continue
            case 14 where name.equalsIgnoringASCIICase("content-length"): continue
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"): continue
            default: break
            }
            buf.appendUTF8(name)
            buf.append(58); buf.append(32)
            buf.appendUTF8(field.value)
            buf.append(13); buf.append(10)
        }
        if !hasServer { buf.appendStatic(serverLine) }
        if !hasDate { buf.appendStatic(dateName); buf.append(contentsOf: date); buf.append(13); buf.append(10) }
        if status == 101 || status == 204 || status < 200 {
            // No framing: 101's Upgrade/Connection come from the handler.
        } else if status == 304 {
            if let declared = response.headers["content-length"] {
                buf.appendStatic(contentLengthName); buf.appendUTF8(declared); buf.append(13); buf.append(10)
            } else if let declared = response.forwardedFields?.contentLength {
                buf.appendStatic(contentLengthName); appendDecimal(declared, to: &buf); buf.append(13); buf.append(10)
            }
        } else if let length = response.body.knownLength {
            buf.appendStatic(contentLengthName)
            appendDecimal(length, to: &buf)
            buf.append(13); buf.append(10)
        } else if framing.chunked {
            buf.appendStatic(chunkedLine)
        }
        if status != 101 {
            if framing.closeAfter { buf.appendStatic(connectionClose) }
            else if minorVersion == 0 { buf.appendStatic(connectionKeepAlive) }
        }
        buf.append(13); buf.append(10)
        if framing.bodyInHead, case .bytes(let body) = response.body { buf.append(contentsOf: body) }
    }

    /// The whole answer to a request that could not be read: status, no body, then close.
    static func appendError(_ status: Int, date: [UInt8], to buf: inout [UInt8]) {
        appendStatusLine(status, to: &buf)
        buf.appendStatic(serverLine)
        buf.appendStatic(dateName); buf.append(contentsOf: date)
        buf.appendStatic("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    /// One chunk of a chunked body (RFC 9112 §7.1).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var framed = Array(String(bytes.count, radix: 16).utf8) + [13, 10]
        framed.reserveCapacity(framed.count + bytes.count + 2)
        framed += bytes
        framed += [13, 10]
        return framed
    }

    /// The last chunk, with the trailer fields.
    static func lastChunk(trailers: [HTTPFields.Field]) -> [UInt8] {
        var last = Array("0\r\n".utf8)
        for field in trailers {
            last += field.name.utf8; last += ": ".utf8; last += field.value.utf8; last += [13, 10]
        }
        last += [13, 10]
        return last
    }

    // Literals, not arrays: a static array is reached through `swift_once`, a call each time on Linux.
    private static var serverLine: StaticString { "Server: Quantum\r\n" }
    private static var dateName: StaticString { "Date: " }
    private static var contentLengthName: StaticString { "Content-Length: " }
    private static var chunkedLine: StaticString { "Transfer-Encoding: chunked\r\n" }
    private static var connectionClose: StaticString { "Connection: close\r\n" }
    private static var connectionKeepAlive: StaticString { "Connection: keep-alive\r\n" }
    private static let statusLines: [[UInt8]] = (0..<600).map { Array("HTTP/1.1 \($0) \(HTTPStatus.reason($0))\r\n".utf8) }

    static func appendStatusLine(_ status: Int, to buf: inout [UInt8]) {
        if status >= 100 && status < 600 { buf.append(contentsOf: statusLines[status]); return }
        buf.append(contentsOf: "HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n".utf8)
    }

    static func appendDecimal(_ value: Int, to buf: inout [UInt8]) {
        if value < 10 { buf.append(UInt8(48 + value)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 && count < 20 { d[19 - count] = UInt8(48 + n % 10); n /= 10; count += 1 }
            buf.append(contentsOf: d[(20 - count)...])
        }
    }
}
