/// WebSocket opcodes (RFC 6455 §5.2).
package enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close status codes (RFC 6455 §7.4) and the rule for which may appear on the wire.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as sent on the wire; any value is representable, valid or not (see `isValidOnWire`).
    public var rawValue: UInt16
    /// Wraps any code, including application codes (3000–4999); never fails.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Shorthand for `init(rawValue:)`: `WebSocketCloseCode(4000)`.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection was fulfilled; what `close()` sends by default.
    public static let normal = WebSocketCloseCode(1000)
    /// 1001: the endpoint is going away (server shutting down, browser leaving the page).
    public static let goingAway = WebSocketCloseCode(1001)
    /// 1002: the peer broke the protocol (bad framing, unmasked client frame, and so on).
    public static let protocolError = WebSocketCloseCode(1002)
    /// 1003: a message of a type the endpoint cannot accept (binary to a text-only endpoint).
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// Never sent: the close frame had no status code.
    public static let noStatus = WebSocketCloseCode(1005)
    /// Never sent: the connection ended without a close frame.
    public static let abnormal = WebSocketCloseCode(1006)
    /// 1007: a message's data does not fit its type (text that is not valid UTF-8).
    public static let invalidPayload = WebSocketCloseCode(1007)
    /// 1008: a message broke the endpoint's policy; the generic code when no other fits.
    public static let policyViolation = WebSocketCloseCode(1008)
    /// 1009: a message exceeded `WebSocketConfiguration.maxMessageSize`.
    public static let messageTooBig = WebSocketCloseCode(1009)
    /// 1010: sent by a client whose required extensions the server did not negotiate.
    public static let mandatoryExtension = WebSocketCloseCode(1010)
    /// 1011: the server hit an unexpected condition; sent when a `WebSocketUpgrade.Handler` throws.
    public static let internalError = WebSocketCloseCode(1011)

    /// Whether a peer may send this code in a close frame: the registered codes an endpoint
    /// may send (1000–1003, 1007–1011, and 1012–1014 from the IANA registry) and 3000–4999.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    public var description: String { String(rawValue) }
}

/// A whole frame (used by tests and by the encoder's callers); the connection itself streams
/// data payloads through `WebSocketFrameParser` events instead.
package struct WebSocketFrame: Equatable, Sendable {
    public var fin: Bool
    public var rsv1: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.rsv1 = rsv1
        self.opcode = opcode
        self.payload = payload
    }
}

/// Serialises frames byte for byte as RFC 6455 §5.2 lays them out.
package enum WebSocketFrameEncoder {
    /// Bytes a header takes for a payload of `length` bytes (2, 4 or 10, plus 4 with a mask).
    public static func headerSize(payloadLength length: Int, masked: Bool) -> Int {
        (length < 126 ? 2 : length <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0)
    }

    /// Appends one frame to `out`. With `maskKey` (clients must mask) the payload is masked.
    public static func encode(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode,
                              payload: UnsafeRawBufferPointer, maskKey: UInt32? = nil, into out: inout [UInt8]) {
        let length = payload.count
        out.append((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode.rawValue)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        if length < 126 {
            out.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(length >> 8)); out.append(UInt8(truncatingIfNeeded: length))
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(length) >> UInt64(shift))) }
        }
        if let maskKey {
            // The key goes out in network order; byte i of the payload is XORed with key byte i % 4.
            out.append(UInt8(maskKey >> 24)); out.append(UInt8(truncatingIfNeeded: maskKey >> 16))
            out.append(UInt8(truncatingIfNeeded: maskKey >> 8)); out.append(UInt8(truncatingIfNeeded: maskKey))
            let start = out.count
            out.append(contentsOf: payload)
            out.withUnsafeMutableBytes { all in
                WebSocketMask.apply(key: maskKey, offset: 0, to: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
            }
        } else {
            out.append(contentsOf: payload)
        }
    }

    /// Convenience for byte arrays.
    public static func encode(_ frame: WebSocketFrame, maskKey: UInt32? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize(payloadLength: frame.payload.count, masked: maskKey != nil) + frame.payload.count)
        frame.payload.withUnsafeBytes { encode(fin: frame.fin, rsv1: frame.rsv1, opcode: frame.opcode, payload: $0, maskKey: maskKey, into: &out) }
        return out
    }
}

/// The XOR mask of RFC 6455 §5.3, eight bytes at a time.
package enum WebSocketMask {
    /// Masks (or unmasks) `buffer`, whose first byte is byte `offset` of the payload.
    public static func apply(key: UInt32, offset: Int, to buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        // Key bytes in payload order, rotated so that index 0 lines up with `offset`.
        var keyBytes = (UInt8(key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key))
        let rotated: [UInt8] = withUnsafeBytes(of: &keyBytes) { k in (0..<4).map { k[($0 + offset) & 3] } }
        let count = buffer.count
        var i = 0
        if count >= 8 {
            var word: UInt64 = 0
            withUnsafeMutableBytes(of: &word) { w in for j in 0..<8 { w[j] = rotated[j & 3] } }
            while i + 8 <= count {
                let v = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                base.storeBytes(of: v ^ word, toByteOffset: i, as: UInt64.self)
                i += 8
            }
        }
        while i < count {
            base.storeBytes(of: base.load(fromByteOffset: i, as: UInt8.self) ^ rotated[i & 3], toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }
}
