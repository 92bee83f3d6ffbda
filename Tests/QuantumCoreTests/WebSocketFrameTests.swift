import QuantumCore
import XCTest

/// The frame codec: RFC 6455 §5.7's example frames byte for byte, both ways, and a parser that
/// gives the same frames whatever the input's split.
final class WebSocketFrameTests: XCTestCase {
    static let helloMaskKey: UInt32 = 0x37FA_213D

    // RFC 6455 §5.7.
    static let unmaskedHello: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    static let maskedHello: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    static let fragmentedHello: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
    static let unmaskedPing: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    static let maskedPong: [UInt8] = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
    static let binary256: [UInt8] = [0x82, 0x7E, 0x01, 0x00] + (0..<256).map { UInt8($0 & 0xFF) }
    static let binary64K: [UInt8] = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    func testEncoderMatchesRFC6455Examples() {
        let hello = Array("Hello".utf8)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: hello)), Self.unmaskedHello)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: hello), maskKey: Self.helloMaskKey), Self.maskedHello)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)))
                       + WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8))), Self.fragmentedHello)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .ping, payload: hello)), Self.unmaskedPing)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .pong, payload: hello), maskKey: Self.helloMaskKey), Self.maskedPong)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: Array(Self.binary256[4...]))), Self.binary256)
        XCTAssertEqual(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: Array(Self.binary64K[10...]))), Self.binary64K)
    }

    func testLengthEncodingBoundaries() {
        for (length, headerSize) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)] {
            let bytes = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: length)))
            XCTAssertEqual(bytes.count, headerSize + length, "length \(length)")
            XCTAssertEqual(WebSocketFrameEncoder.headerSize(payloadLength: length, masked: false), headerSize)
            XCTAssertEqual(WebSocketFrameEncoder.headerSize(payloadLength: length, masked: true), headerSize + 4)
            XCTAssertEqual(Self.frames(.client, [bytes]), [WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 1, count: length))])
        }
    }

    func testParserDecodesRFC6455Examples() {
        let hello = Array("Hello".utf8)
        XCTAssertEqual(Self.frames(.client, [Self.unmaskedHello]), [WebSocketFrame(opcode: .text, payload: hello)])
        XCTAssertEqual(Self.frames(.server, [Self.maskedHello]), [WebSocketFrame(opcode: .text, payload: hello)])
        XCTAssertEqual(Self.frames(.client, [Self.fragmentedHello]),
                       [WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)), WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8))])
        XCTAssertEqual(Self.frames(.client, [Self.unmaskedPing]), [WebSocketFrame(opcode: .ping, payload: hello)])
        XCTAssertEqual(Self.frames(.server, [Self.maskedPong]), [WebSocketFrame(opcode: .pong, payload: hello)])
        XCTAssertEqual(Self.frames(.client, [Self.binary256]), [WebSocketFrame(opcode: .binary, payload: Array(Self.binary256[4...]))])
        XCTAssertEqual(Self.frames(.client, [Self.binary64K]), [WebSocketFrame(opcode: .binary, payload: Array(Self.binary64K[10...]))])
    }

    /// A stream of several frames (masked, fragmented, with control frames between fragments)
    /// parses the same whole, byte by byte, and split in two at every index.
    func testParserIsSplitInvariant() {
        var stream: [UInt8] = []
        let key: UInt32 = 0xA1B2_C3D4
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(fin: false, opcode: .text, payload: Array("frag".utf8)), maskKey: key)
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .ping, payload: Array("p".utf8)), maskKey: key)
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(fin: true, opcode: .continuation, payload: Array("mented ✓".utf8)), maskKey: key)
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: (0..<300).map { UInt8($0 % 256) }), maskKey: 0x0102_0304)
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .binary, payload: []), maskKey: key)
        stream += WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .close, payload: [0x03, 0xE8] + Array("bye".utf8)), maskKey: key)
        let expected = Self.frames(.server, [stream])
        XCTAssertEqual(expected.count, 6)
        XCTAssertEqual(expected[2].payload, Array("mented ✓".utf8))
        XCTAssertEqual(Self.frames(.server, stream.map { [$0] }), expected, "byte by byte")
        for i in 0...stream.count {
            XCTAssertEqual(Self.frames(.server, [Array(stream[..<i]), Array(stream[i...])]), expected, "split at \(i)")
        }
        // The engine above the parser agrees too: same messages for every split.
        let whole = Self.messages([stream])
        XCTAssertEqual(whole, [.text("fragmented ✓"), .binary((0..<300).map { UInt8($0 % 256) }), .binary([])])
        XCTAssertEqual(Self.messages(stream.map { [$0] }), whole)
        for i in 0...stream.count { XCTAssertEqual(Self.messages([Array(stream[..<i]), Array(stream[i...])]), whole, "split at \(i)") }
    }

    func testMaskIsItsOwnInverseAtEveryOffset() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        for offset in 0..<4 {
            var copy = data
            copy.withUnsafeMutableBytes { WebSocketMask.apply(key: 0xDEAD_BEEF, offset: offset, to: $0) }
            XCTAssertNotEqual(copy, data)
            // Unmasking in two pieces with the running offset gives the original back.
            copy.withUnsafeMutableBytes { all in
                WebSocketMask.apply(key: 0xDEAD_BEEF, offset: offset, to: UnsafeMutableRawBufferPointer(rebasing: all[0..<13]))
                WebSocketMask.apply(key: 0xDEAD_BEEF, offset: (offset + 13) & 3, to: UnsafeMutableRawBufferPointer(rebasing: all[13...]))
            }
            XCTAssertEqual(copy, data, "offset \(offset)")
        }
    }

    /// A frame header announcing more than the limit fails before any payload arrives.
    func testOversizedFrameFailsOnItsHeader() {
        var parser = WebSocketFrameParser(role: .client, maxFrameSize: 1000)
        parser.append([0x82, 0x7E, 0x03, 0xE9])  // 1001 bytes announced, none sent
        XCTAssertThrowsError(try parser.next()) { XCTAssertEqual(($0 as? WebSocketProtocolError)?.code, .messageTooBig) }
        // Errors are sticky and further input is not buffered.
        parser.append([UInt8](repeating: 0, count: 4096))
        XCTAssertEqual(parser.bufferedByteCount, 0)
        XCTAssertThrowsError(try parser.next())
    }

    // MARK: - Helpers

    /// Parses `chunks` in order, reassembling data payload pieces into whole frames.
    static func frames(_ role: WebSocketFrameParser.Role, _ chunks: [[UInt8]]) -> [WebSocketFrame] {
        var parser = WebSocketFrameParser(role: role)
        var frames: [WebSocketFrame] = []
        var current: WebSocketFrame?
        for chunk in chunks {
            parser.append(chunk)
            while let event = try? parser.next() {
                switch event {
                case .dataHeader(let fin, let rsv1, let opcode, _): current = WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, payload: [])
                case .payload(let bytes): current?.payload += bytes
                case .dataEnd: frames.append(current!); current = nil
                case .control(let opcode, let payload): frames.append(WebSocketFrame(opcode: opcode, payload: payload))
                }
            }
        }
        return frames
    }

    static func messages(_ chunks: [[UInt8]]) -> [WebSocketMessage] {
        var engine = WebSocketEngine(role: .server)
        var outputs: [WebSocketEngine.Output] = []
        for chunk in chunks { chunk.withUnsafeBytes { engine.receive($0, into: &outputs) } }
        return outputs.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }
}
