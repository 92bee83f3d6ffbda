/// Header fields kept as the bytes they go out as — `Name: value` and CRLF each — for passing a
/// message's fields on without a `String` per name and value, or an array of them: how the
/// reverse proxy forwards requests and answers on its fastest path. The client fills one from
/// a response when asked (see `HTTPClient.startOnIdleConnection`), leaving out what the writer
/// frames itself (`Content-Length`, `Transfer-Encoding`, `Connection`), the fields `Connection`
/// names, and whatever the caller's filter drops. Framing fields never enter a block.
package struct FieldBlock: Sendable, Equatable, HeaderFieldSink {
    /// Tells the fields to leave out, by name.
    public typealias Filter = @Sendable (UnsafeBufferPointer<UInt8>) -> Bool

    public private(set) var bytes: [UInt8] = []
    public private(set) var count = 0
    /// Whether a `Date` or `Server` field is among them (the writer then adds none of its own).
    public private(set) var hasDate = false
    public private(set) var hasServer = false
    /// The `Content-Length` the message declared (left out of the block).
    public internal(set) var contentLength: Int?

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func add(_ name: String, _ value: String) {
        let before = bytes.count
        bytes.add(name, value)
        guard bytes.count != before else { return }  // a framing field, left out
        count += 1
        switch name.utf8.count {
        case 4 where name.equalsIgnoringASCIICase("date"): hasDate = true
        case 6 where name.equalsIgnoringASCIICase("server"): hasServer = true
        default: break
        }
    }

    mutating func append(_ p: UnsafeBufferPointer<UInt8>, name: Range<Int>, value: Range<Int>) {
        note(p, name: name)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[name]))
        bytes.append(58); bytes.append(32)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[value]))
        bytes.append(13); bytes.append(10)
        count += 1
    }

    /// Lines already in the form `append` writes (`Name: value` CRLF, validated), copied as
    /// they stand: a run of adjacent ones costs one copy. Their names went to `note` first.
    mutating func appendVerbatim(_ p: UnsafeBufferPointer<UInt8>, _ lines: Range<Int>, count: Int) {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[lines]))
        self.count += count
    }

    /// Remembers whether a field about to go in is `Date` or `Server`.
    @inline(__always) mutating func note(_ p: UnsafeBufferPointer<UInt8>, name: Range<Int>) {
        if name.count == 4 && HeadParser.equals(p, name, "date") { hasDate = true }
        if name.count == 6 && HeadParser.equals(p, name, "server") { hasServer = true }
    }

    /// The fields as strings, for a writer that needs them one by one (HTTP/2).
    public var fields: HTTPFields {
        var fields = HTTPFields(capacity: count)
        var lineStart = 0
        var i = 0
        while i + 1 < bytes.count {
            guard bytes[i] == 13 && bytes[i + 1] == 10 else { i += 1; continue }
            let line = bytes[lineStart..<i]
            if let colon = line.firstIndex(of: 58) {
                let valueStart = colon + 2 <= i ? colon + 2 : i
                fields.add(String(decoding: bytes[lineStart..<colon], as: UTF8.self),
                           String(decoding: bytes[valueStart..<i], as: UTF8.self))
            }
            i += 2
            lineStart = i
        }
        return fields
    }
}

/// A head being written as bytes takes fields too: `Name: value` and CRLF each. Framing fields
/// (`Content-Length`, `Transfer-Encoding`) are left out, since whoever writes the head frames
/// the body.
extension Array: HeaderFieldSink where Element == UInt8 {
    package mutating func add(_ name: String, _ value: String) {
        switch name.utf8.count {
        case 14 where name.equalsIgnoringASCIICase("content-length"): return
        case 17 where name.equalsIgnoringASCIICase("transfer-encoding"): return
        default: break
        }
        appendUTF8(name)
        append(58); append(32)
        appendUTF8(value)
        append(13); append(10)
    }
}
