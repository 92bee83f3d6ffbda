/// A protocol violation by the peer: the connection fails with `code` (RFC 6455 §7.1.7).
package struct WebSocketProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: WebSocketCloseCode
    public var reason: String
    public init(_ code: WebSocketCloseCode, _ reason: String) { self.code = code; self.reason = reason }
    public var description: String { "WebSocket close \(code.rawValue): \(reason)" }
}

/// An incremental frame parser with limits. Bytes go in through `append`; `next` yields events
/// as soon as they are known: a data frame's header first (so a too-large frame fails before its
/// payload arrives), then its payload in pieces as they arrive (unmasked), then its end. Control
/// frames (at most 125 bytes) come whole. Feeding the same bytes in any split gives the same
/// frames. Memory held: the unread input only, since every payload byte read is handed out.
package struct WebSocketFrameParser: Sendable {
    public enum Event: Equatable, Sendable {
        /// A text, binary or continuation frame starts.
        case dataHeader(fin: Bool, rsv1: Bool, opcode: WebSocketOpcode, length: Int)
        /// Unmasked payload bytes of the current data frame.
        case payload(ArraySlice<UInt8>)
        /// The current data frame's payload is complete.
        case dataEnd
        /// A whole ping, pong or close frame (payload unmasked).
        case control(WebSocketOpcode, [UInt8])
    }

    /// Which side reads: a server requires masked frames, a client unmasked ones.
    public enum Role: Sendable { case server, client }

    public let role: Role
    /// Frames longer than this fail with 1009 as soon as their header is read.
    public var maxFrameSize: Int
    /// Whether RSV1 may be set (permessage-deflate negotiated): on a message's first frame only.
    public var allowsRSV1: Bool

    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: WebSocketProtocolError?
    // The data frame whose payload is being read.
    private var inPayload = false
    private var remaining = 0
    private var maskKey: UInt32?
    private var maskOffset = 0

    public init(role: Role, maxFrameSize: Int = 16 << 20, allowsRSV1: Bool = false) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowsRSV1 = allowsRSV1
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if failure != nil { return }
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: buffer.capacity <= 65536); start = 0 }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// Bytes received and not yet handed out.
    public var bufferedByteCount: Int { buffer.count - start }

    /// The next event, nil when more bytes are needed. Errors are sticky.
    public mutating func next() throws(WebSocketProtocolError) -> Event? {
        if let failure { throw failure }
        do { return try step() } catch { failure = error; buffer = []; start = 0; throw error }
    }

    private mutating func step() throws(WebSocketProtocolError) -> Event? {
        let available = buffer.count - start
        if inPayload {
            if remaining == 0 { inPayload = false; return .dataEnd }
            guard available > 0 else { compact(); return nil }
            let n = min(available, remaining)
            let range = start..<start + n
            if let maskKey {
                let offset = maskOffset
                buffer.withUnsafeMutableBytes { WebSocketMask.apply(key: maskKey, offset: offset, to: UnsafeMutableRawBufferPointer(rebasing: $0[range])) }
                maskOffset = (maskOffset + n) & 3
            }
            start += n
            remaining -= n
            return .payload(buffer[range])
        }
        guard available >= 2 else { compact(); return nil }
        let b0 = buffer[start], b1 = buffer[start + 1]
        let fin = b0 & 0x80 != 0, rsv1 = b0 & 0x40 != 0
        if b0 & 0x30 != 0 { throw WebSocketProtocolError(.protocolError, "reserved bits set without an extension") }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            throw WebSocketProtocolError(.protocolError, "unknown opcode \(b0 & 0x0F)")
        }
        if rsv1 && (!allowsRSV1 || opcode.isControl || opcode == .continuation) {
            throw WebSocketProtocolError(.protocolError, "RSV1 set where no extension allows it")
        }
        let masked = b1 & 0x80 != 0
        switch role {
        case .server where !masked: throw WebSocketProtocolError(.protocolError, "client frames must be masked")
        case .client where masked: throw WebSocketProtocolError(.protocolError, "server frames must not be masked")
        default: break
        }
        if opcode.isControl {
            if !fin { throw WebSocketProtocolError(.protocolError, "fragmented control frame") }
            if b1 & 0x7F > 125 { throw WebSocketProtocolError(.protocolError, "control frame payload over 125 bytes") }
        }
        var headerSize = 2
        var length = UInt64(b1 & 0x7F)
        if length == 126 {
            headerSize = 4
            guard available >= headerSize else { compact(); return nil }
            length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
        } else if length == 127 {
            headerSize = 10
            guard available >= headerSize else { compact(); return nil }
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(buffer[start + i]) }
            if length >> 63 != 0 { throw WebSocketProtocolError(.protocolError, "payload length with the most significant bit set") }
        }
        if length > UInt64(maxFrameSize) {
            throw WebSocketProtocolError(.messageTooBig, "frame of \(length) bytes exceeds the limit of \(maxFrameSize)")
        }
        if masked { headerSize += 4 }
        guard available >= headerSize else { compact(); return nil }
        var key: UInt32?
        if masked {
            let k = start + headerSize - 4
            key = UInt32(buffer[k]) << 24 | UInt32(buffer[k + 1]) << 16 | UInt32(buffer[k + 2]) << 8 | UInt32(buffer[k + 3])
        }
        let n = Int(length)
        if opcode.isControl {
            guard available >= headerSize + n else { compact(); return nil }
            let range = start + headerSize..<start + headerSize + n
            if let key { buffer.withUnsafeMutableBytes { WebSocketMask.apply(key: key, offset: 0, to: UnsafeMutableRawBufferPointer(rebasing: $0[range])) } }
            start += headerSize + n
            return .control(opcode, Array(buffer[range]))
        }
        start += headerSize
        inPayload = true
        remaining = n
        maskKey = key
        maskOffset = 0
        return .dataHeader(fin: fin, rsv1: rsv1, opcode: opcode, length: n)
    }

    /// Drops consumed bytes once they make up most of the buffer.
    private mutating func compact() {
        if start == 0 { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 65536)
            start = 0
        } else if start >= 4096 || start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }
}
