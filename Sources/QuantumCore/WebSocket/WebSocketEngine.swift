/// A message as the application sees it: reassembled from its fragments and decompressed.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])

    /// Payload size in bytes.
    public var count: Int {
        switch self {
        case .text(let s): s.utf8.count
        case .binary(let b): b.count
        }
    }
}

/// Limits and timers of one WebSocket connection.
public struct WebSocketConfiguration: Sendable {
    /// A message (after decompression) or frame longer than this fails the connection with 1009.
    public var maxMessageSize: Int
    /// permessage-deflate: offered (client) or accepted (server) when set.
    public var compression: WebSocketCompression?
    /// Ping the peer after this long without hearing from it; nil never pings.
    public var pingInterval: Duration?
    /// Close the connection when nothing arrives this long after a ping.
    public var pingTimeout: Duration
    /// How long to wait for the peer's close frame after sending ours.
    public var closeTimeout: Duration
    /// Received messages the application has not taken yet, in bytes, before reading pauses.
    public var maxQueuedBytes: Int

    /// Defaults: 16 MiB messages, no compression, no idle pings, 20 s ping and 5 s close timeouts, 1 MiB queued.
    public init(maxMessageSize: Int = 16 << 20, compression: WebSocketCompression? = nil,
                pingInterval: Duration? = nil, pingTimeout: Duration = .seconds(20),
                closeTimeout: Duration = .seconds(5), maxQueuedBytes: Int = 1 << 20) {
        self.maxMessageSize = maxMessageSize
        self.compression = compression
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.closeTimeout = closeTimeout
        self.maxQueuedBytes = maxQueuedBytes
    }
}

/// The WebSocket protocol without I/O (RFC 6455 §5–7, RFC 7692 §6): bytes in, messages and bytes
/// to write out. It reassembles fragments, validates text as it arrives, answers pings, runs the
/// closing handshake and turns every protocol violation into the close code the RFC names.
package struct WebSocketEngine {
    public enum Role: Sendable { case server, client }
    public enum State: Sendable, Equatable {
        case open
        /// We sent a close frame and wait for the peer's.
        case closing
        /// The closing handshake finished or the connection failed: nothing more is read or sent.
        case closed
    }

    public enum Output: Equatable {
        case message(WebSocketMessage)
        /// The peer pinged (a pong is already in a `.write` before this).
        case ping([UInt8])
        case pong([UInt8])
        /// Bytes to send: an automatic pong, a close reply, or the close frame of a failure.
        case write([UInt8])
        /// The connection is over: close the socket once the writes before this are out.
        /// `error` is set when the peer broke the protocol (`code` was sent to it).
        case closed(code: WebSocketCloseCode, reason: String, error: WebSocketProtocolError?)

        var isClosed: Bool { if case .closed = self { true } else { false } }
    }

    public let role: Role
    public let maxMessageSize: Int
    public private(set) var state: State = .open
    private var parser: WebSocketFrameParser
    private let deflate: PerMessageDeflate?
    // The message being received.
    private var inMessage = false
    private var messageIsText = false
    private var messageCompressed = false
    private var frameFin = false
    private var wireBytes = 0
    private var buffer: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var random = SystemRandomNumberGenerator()

    /// `deflate`: the permessage-deflate parameters negotiated in the handshake, if any.
    public init(role: Role, configuration: WebSocketConfiguration = WebSocketConfiguration(), deflate: PerMessageDeflateParameters? = nil) {
        self.role = role
        maxMessageSize = configuration.maxMessageSize
        parser = WebSocketFrameParser(role: role == .server ? .server : .client, maxFrameSize: configuration.maxMessageSize,
                                      allowsRSV1: deflate != nil)
        self.deflate = deflate.map {
            PerMessageDeflate(parameters: $0, isServer: role == .server, configuration: configuration.compression ?? WebSocketCompression())
        }
    }

    // MARK: - Receiving

    /// Consumes bytes from the peer, appending what follows from them to `outputs`.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, into outputs: inout [Output]) {
        guard state != .closed else { return }
        parser.append(bytes)
        while state != .closed {
            do throws(WebSocketProtocolError) {
                guard let event = try parser.next() else { return }
                try handle(event, &outputs)
            } catch {
                fail(error, &outputs)
            }
        }
    }

    public mutating func receive(_ bytes: [UInt8]) -> [Output] {
        var outputs: [Output] = []
        bytes.withUnsafeBytes { receive($0, into: &outputs) }
        return outputs
    }

    private mutating func handle(_ event: WebSocketFrameParser.Event, _ outputs: inout [Output]) throws(WebSocketProtocolError) {
        switch event {
        case .dataHeader(let fin, let rsv1, let opcode, let length):
            if opcode == .continuation {
                guard inMessage else { throw WebSocketProtocolError(.protocolError, "continuation frame without a message to continue") }
            } else {
                guard !inMessage else { throw WebSocketProtocolError(.protocolError, "new message before the previous one ended") }
                inMessage = true
                messageIsText = opcode == .text
                messageCompressed = rsv1
                wireBytes = 0
                utf8 = UTF8Validator()
                buffer = []
            }
            wireBytes += length
            if wireBytes > maxMessageSize {
                throw WebSocketProtocolError(.messageTooBig, "message exceeds the limit of \(maxMessageSize) bytes")
            }
            frameFin = fin
            if state == .open && !messageCompressed && length > 0 {
                // Grow ahead for what this frame announced, but not all at once for big claims.
                buffer.reserveCapacity(buffer.count + min(length, 1 << 20))
            }
        case .payload(let slice):
            // After our close frame, data is read (to find the peer's close) and dropped.
            guard state == .open else { return }
            if messageCompressed, let deflate {
                let before = buffer.count
                let limit = maxMessageSize
                let failure = slice.withUnsafeBytes { raw -> WebSocketProtocolError? in
                    do throws(WebSocketProtocolError) { try deflate.decompress(raw, into: &buffer, limit: limit); return nil } catch { return error }
                }
                if let failure { throw failure }
                if messageIsText && !utf8.validate(buffer[before...]) {
                    throw WebSocketProtocolError(.invalidPayload, "invalid UTF-8 in a text message")
                }
            } else {
                if messageIsText && !utf8.validate(slice) {
                    throw WebSocketProtocolError(.invalidPayload, "invalid UTF-8 in a text message")
                }
                buffer.append(contentsOf: slice)
            }
        case .dataEnd:
            guard frameFin else { return }
            inMessage = false
            guard state == .open else { buffer = []; return }
            // An empty compressed payload carries no block at all: adding the flush tail to it
            // would leave the inflater inside a stored block, so there is nothing to finish.
            if messageCompressed, wireBytes > 0, let deflate {
                let before = buffer.count
                try deflate.finishMessage(into: &buffer, limit: maxMessageSize)
                if messageIsText && !utf8.validate(buffer[before...]) {
                    throw WebSocketProtocolError(.invalidPayload, "invalid UTF-8 in a text message")
                }
            }
            if messageIsText && !utf8.isComplete { throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence") }
            let payload = buffer
            buffer = []
            outputs.append(.message(messageIsText ? .text(String(decoding: payload, as: UTF8.self)) : .binary(payload)))
        case .control(let opcode, let payload):
            switch opcode {
            case .ping:
                if state == .open { outputs.append(.write(frame(.pong, payload))) }
                outputs.append(.ping(payload))
            case .pong:
                outputs.append(.pong(payload))
            default:
                try receivedClose(payload, &outputs)
            }
        }
    }

    private mutating func receivedClose(_ payload: [UInt8], _ outputs: inout [Output]) throws(WebSocketProtocolError) {
        var code = WebSocketCloseCode.noStatus
        var reason = ""
        if payload.count == 1 { throw WebSocketProtocolError(.protocolError, "close frame with a 1-byte payload") }
        if payload.count >= 2 {
            code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard code.isValidOnWire else { throw WebSocketProtocolError(.protocolError, "invalid close code \(code.rawValue)") }
            var v = UTF8Validator()
            guard v.validate(payload[2...]), v.isComplete else { throw WebSocketProtocolError(.invalidPayload, "close reason is not UTF-8") }
            reason = String(decoding: payload[2...], as: UTF8.self)
        }
        if state == .open {
            // Echo the status code (RFC 6455 §5.5.1); an empty close gets an empty reply.
            outputs.append(.write(code == .noStatus ? frame(.close, []) : closeFrame(code, "")))
        }
        state = .closed
        buffer = []
        outputs.append(.closed(code: code, reason: reason, error: nil))
    }

    /// Fails the connection: our close frame with the error's code, then the end.
    private mutating func fail(_ error: WebSocketProtocolError, _ outputs: inout [Output]) {
        if state == .open { outputs.append(.write(closeFrame(error.code, error.reason))) }
        state = .closed
        buffer = []
        outputs.append(.closed(code: error.code, reason: error.reason, error: error))
    }

    /// Marks the connection over without a closing handshake (the socket ended or timed out).
    public mutating func abandon() {
        state = .closed
        buffer = []
    }

    // MARK: - Sending

    /// One data message as a single frame (compressed when permessage-deflate was negotiated).
    public mutating func encodeMessage(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        precondition(opcode == .text || opcode == .binary, "data messages are text or binary")
        if let deflate {
            var compressed: [UInt8] = []
            compressed.reserveCapacity(payload.count / 2 + 64)
            deflate.compress(payload, into: &compressed)
            compressed.withUnsafeBytes { appendFrame(rsv1: true, opcode, $0, &out) }
        } else {
            appendFrame(rsv1: false, opcode, payload, &out)
        }
    }

    public mutating func encodeMessage(_ message: WebSocketMessage) -> [UInt8] {
        var out: [UInt8] = []
        switch message {
        case .text(var s): s.withUTF8 { encodeMessage(.text, UnsafeRawBufferPointer($0), into: &out) }
        case .binary(let b): b.withUnsafeBytes { encodeMessage(.binary, $0, into: &out) }
        }
        return out
    }

    /// A ping or pong (payloads are cut to 125 bytes).
    public mutating func encodeControl(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        precondition(opcode == .ping || opcode == .pong, "use encodeClose for close frames")
        return frame(opcode, Array(payload.prefix(125)))
    }

    /// Our close frame, starting the closing handshake; nil when one was already sent or the
    /// connection is over. Codes that may not be sent become 1000 (1005 sends no code at all).
    public mutating func encodeClose(code: WebSocketCloseCode, reason: String) -> [UInt8]? {
        guard state == .open else { return nil }
        state = .closing
        if code == .noStatus { return frame(.close, []) }
        return closeFrame(code.isValidOnWire ? code : .normal, reason)
    }

    private mutating func closeFrame(_ code: WebSocketCloseCode, _ reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
        // At most 123 bytes of reason, cut on a character boundary.
        var used = 0
        for scalar in reason.unicodeScalars {
            let n = String(scalar).utf8.count
            if used + n > 123 { break }
            payload.append(contentsOf: String(scalar).utf8)
            used += n
        }
        return frame(.close, payload)
    }

    private mutating func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 14)
        payload.withUnsafeBytes { appendFrame(rsv1: false, opcode, $0, &out) }
        return out
    }

    private mutating func appendFrame(rsv1: Bool, _ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer, _ out: inout [UInt8]) {
        let key: UInt32? = role == .client ? UInt32.random(in: 0...UInt32.max, using: &random) : nil
        out.reserveCapacity(out.count + WebSocketFrameEncoder.headerSize(payloadLength: payload.count, masked: key != nil) + payload.count)
        WebSocketFrameEncoder.encode(rsv1: rsv1, opcode: opcode, payload: payload, maskKey: key, into: &out)
    }
}
