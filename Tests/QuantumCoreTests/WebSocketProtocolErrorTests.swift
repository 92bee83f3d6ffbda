import QuantumCore
import QuantumTestSupport
import XCTest

/// Protocol violations from a peer and the close code each one must get (RFC 6455 §7.4.1):
/// 1002 for framing errors, 1007 for invalid UTF-8, 1009 for messages over the limit. Every
/// case is also fed byte by byte: the verdict may not depend on how the bytes arrive.
final class WebSocketProtocolErrorTests: XCTestCase {
    static let key: UInt32 = 0x1234_5678

    /// A masked client frame with arbitrary header bits.
    static func frame(fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, _ payload: [UInt8] = [], masked: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 { out.append(maskBit | UInt8(payload.count)) } else {
            out.append(maskBit | 126); out.append(UInt8(payload.count >> 8)); out.append(UInt8(payload.count & 0xFF))
        }
        var body = payload
        if masked {
            out += [0x12, 0x34, 0x56, 0x78]
            body.withUnsafeMutableBytes { WebSocketMask.apply(key: key, offset: 0, to: $0) }
        }
        return out + body
    }

    static func close(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        frame(opcode: 0x8, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    static let text = Array("hi".utf8)

    struct Case {
        var name: String
        var bytes: [UInt8]
        var code: UInt16
        var configuration = WebSocketConfiguration(maxMessageSize: 1000)
        var deflate: PerMessageDeflateParameters?
    }

    static var corpus: [Case] {
        var deflater = WebSocketEngine(role: .client, deflate: PerMessageDeflateParameters())
        let bomb = deflater.encodeMessage(.text(String(repeating: "a", count: 5000)))
        let badCompressed = frame(rsv: 4, opcode: 0x1, [0xFF, 0xFF, 0xFF, 0xFF])
        return [
            Case(name: "unmasked client frame", bytes: frame(opcode: 0x1, text, masked: false), code: 1002),
            Case(name: "RSV1 without an extension", bytes: frame(rsv: 4, opcode: 0x1, text), code: 1002),
            Case(name: "RSV2", bytes: frame(rsv: 2, opcode: 0x1, text), code: 1002),
            Case(name: "RSV3", bytes: frame(rsv: 1, opcode: 0x2, text), code: 1002),
            Case(name: "RSV1 on a ping with deflate", bytes: frame(rsv: 4, opcode: 0x9), code: 1002, deflate: PerMessageDeflateParameters()),
            Case(name: "RSV1 on a continuation with deflate",
                 bytes: frame(fin: false, opcode: 0x1, text) + frame(rsv: 4, opcode: 0x0, text), code: 1002, deflate: PerMessageDeflateParameters()),
            Case(name: "reserved data opcode 3", bytes: frame(opcode: 0x3), code: 1002),
            Case(name: "reserved data opcode 7", bytes: frame(opcode: 0x7, text), code: 1002),
            Case(name: "reserved control opcode B", bytes: frame(opcode: 0xB), code: 1002),
            Case(name: "reserved control opcode F", bytes: frame(opcode: 0xF, text), code: 1002),
            Case(name: "fragmented ping", bytes: frame(fin: false, opcode: 0x9, text), code: 1002),
            Case(name: "ping over 125 bytes", bytes: frame(opcode: 0x9, [UInt8](repeating: 0, count: 126)), code: 1002),
            Case(name: "close over 125 bytes", bytes: frame(opcode: 0x8, [3, 232] + [UInt8](repeating: 97, count: 124)), code: 1002),
            Case(name: "continuation without a start", bytes: frame(opcode: 0x0, text), code: 1002),
            Case(name: "new message inside a fragmented one", bytes: frame(fin: false, opcode: 0x1, text) + frame(opcode: 0x1, text), code: 1002),
            Case(name: "binary inside a fragmented text", bytes: frame(fin: false, opcode: 0x1, text) + frame(opcode: 0x2, text), code: 1002),
            Case(name: "64-bit length with the top bit set", bytes: [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4], code: 1002),
            Case(name: "close with a 1-byte payload", bytes: frame(opcode: 0x8, [3]), code: 1002),
            Case(name: "close code 0", bytes: close(0), code: 1002),
            Case(name: "close code 999", bytes: close(999), code: 1002),
            Case(name: "close code 1004", bytes: close(1004), code: 1002),
            Case(name: "close code 1005", bytes: close(1005), code: 1002),
            Case(name: "close code 1006", bytes: close(1006), code: 1002),
            Case(name: "close code 1015", bytes: close(1015), code: 1002),
            Case(name: "close code 1016", bytes: close(1016), code: 1002),
            Case(name: "close code 2999", bytes: close(2999), code: 1002),
            Case(name: "close code 5000", bytes: close(5000), code: 1002),
            Case(name: "close code 65535", bytes: close(65535), code: 1002),
            Case(name: "close reason not UTF-8", bytes: close(1000, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80]), code: 1007),
            Case(name: "text not UTF-8", bytes: frame(opcode: 0x1, [0x68, 0xFF, 0x69]), code: 1007),
            Case(name: "text with a surrogate", bytes: frame(opcode: 0x1, [0xED, 0xA0, 0x80]), code: 1007),
            Case(name: "text with an overlong slash", bytes: frame(opcode: 0x1, [0xC0, 0xAF]), code: 1007),
            Case(name: "text past U+10FFFF", bytes: frame(opcode: 0x1, [0xF4, 0x90, 0x80, 0x80]), code: 1007),
            Case(name: "text ending inside a sequence", bytes: frame(opcode: 0x1, [0x68, 0xE2, 0x82]), code: 1007),
            Case(name: "text invalid across fragments",
                 bytes: frame(fin: false, opcode: 0x1, [0xCE, 0xBA, 0xE1]) + frame(fin: false, opcode: 0x0, [0xBD]) + frame(opcode: 0x0, [0x20]), code: 1007),
            Case(name: "fragmented text ending inside a sequence",
                 bytes: frame(fin: false, opcode: 0x1, [0x68]) + frame(opcode: 0x0, [0xF0, 0x9F]), code: 1007),
            Case(name: "frame over max_message_size", bytes: frame(opcode: 0x2, [UInt8](repeating: 0, count: 1001)), code: 1009),
            Case(name: "fragments together over max_message_size",
                 bytes: frame(fin: false, opcode: 0x2, [UInt8](repeating: 0, count: 600)) + frame(opcode: 0x0, [UInt8](repeating: 0, count: 600)), code: 1009),
            Case(name: "compressed message inflating past max_message_size", bytes: bomb, code: 1009, deflate: PerMessageDeflateParameters()),
            Case(name: "compressed payload that is not DEFLATE", bytes: badCompressed, code: 1007, deflate: PerMessageDeflateParameters()),
        ]
    }

    func testCorpusGetsTheRightCloseCodes() {
        for c in Self.corpus {
            for (how, chunks) in [("whole", [c.bytes]), ("byte by byte", c.bytes.map { [$0] })] {
                var engine = WebSocketEngine(role: .server, configuration: c.configuration, deflate: c.deflate)
                var outputs: [WebSocketEngine.Output] = []
                for chunk in chunks { chunk.withUnsafeBytes { engine.receive($0, into: &outputs) } }
                guard case .closed(let code, _, let error)? = outputs.last else {
                    XCTFail("\(c.name) (\(how)): no close, got \(outputs)")
                    continue
                }
                XCTAssertEqual(code.rawValue, c.code, "\(c.name) (\(how))")
                XCTAssertNotNil(error, "\(c.name) (\(how))")
                XCTAssertEqual(engine.state, .closed)
                // The close frame sent to the peer carries the same code.
                guard outputs.count >= 2, case .write(let sent) = outputs[outputs.count - 2] else {
                    XCTFail("\(c.name): no close frame written")
                    continue
                }
                XCTAssertEqual(sent[0], 0x88, c.name)
                XCTAssertEqual(UInt16(sent[2]) << 8 | UInt16(sent[3]), c.code, c.name)
                // Nothing after a failure is processed.
                XCTAssertEqual(engine.receive(Self.frame(opcode: 0x1, Self.text)), [], c.name)
            }
        }
    }

    /// Invalid UTF-8 fails as soon as the offending byte arrives: before its frame is complete,
    /// and before a later fragment could arrive.
    func testInvalidTextFailsFast() {
        var engine = WebSocketEngine(role: .server)
        var frame = Self.frame(fin: false, opcode: 0x1, [0x61, 0x62, 0xF5] + [UInt8](repeating: 0x61, count: 100))
        frame.removeLast(90)  // the frame is far from complete
        let outputs = engine.receive(frame)
        guard case .closed(let code, _, _)? = outputs.last else { return XCTFail("\(outputs)") }
        XCTAssertEqual(code, .invalidPayload)
    }

    /// Valid close codes are echoed back, and a close with no code gets an empty close.
    func testValidCloseCodesAreEchoed() {
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            var engine = WebSocketEngine(role: .server)
            let outputs = engine.receive(Self.close(code, Array("bye".utf8)))
            XCTAssertEqual(outputs, [.write([0x88, 0x02, UInt8(code >> 8), UInt8(code & 0xFF)]),
                                     .closed(code: WebSocketCloseCode(code), reason: "bye", error: nil)], "code \(code)")
        }
        var engine = WebSocketEngine(role: .server)
        XCTAssertEqual(engine.receive(Self.frame(opcode: 0x8)), [.write([0x88, 0x00]), .closed(code: .noStatus, reason: "", error: nil)])
    }

    /// Pings are answered with the same payload, also between the fragments of a message.
    func testPingBetweenFragmentsIsAnswered() {
        var engine = WebSocketEngine(role: .server)
        let bytes = Self.frame(fin: false, opcode: 0x1, Array("frag".utf8)) + Self.frame(opcode: 0x9, Array("p!".utf8))
            + Self.frame(opcode: 0x0, Array("ment".utf8))
        XCTAssertEqual(engine.receive(bytes), [.write([0x8A, 0x02, 0x70, 0x21]), .ping(Array("p!".utf8)), .message(.text("fragment"))])
    }

    /// After we sent a close, data is dropped until the peer's close completes the handshake.
    func testClosingHandshakeStartedByUs() {
        var engine = WebSocketEngine(role: .server)
        XCTAssertEqual(engine.encodeClose(code: .goingAway, reason: "bye"), [0x88, 0x05, 0x03, 0xE9, 0x62, 0x79, 0x65])
        XCTAssertEqual(engine.state, .closing)
        XCTAssertNil(engine.encodeClose(code: .normal, reason: ""), "one close frame only")
        XCTAssertEqual(engine.receive(Self.frame(opcode: 0x1, Self.text)), [])
        XCTAssertEqual(engine.receive(Self.close(1001)), [.closed(code: .goingAway, reason: "", error: nil)])
        XCTAssertEqual(engine.state, .closed)
    }

    /// Random bytes and mangled frames, fed in random pieces, never crash the engine, never make
    /// it hold more than the message limit, and leave it either open or closed with a valid code.
    func testHostileInputNeverCrashes() {
        var rng = SplitMix(seed: 0x5EED)
        let valid = Self.frame(fin: false, opcode: 0x1, Array("héllo".utf8)) + Self.frame(opcode: 0x9, [1, 2])
            + Self.frame(opcode: 0x0, Array(" wörld".utf8)) + Self.frame(opcode: 0x2, [UInt8](repeating: 7, count: 300))
        var deflater = WebSocketEngine(role: .client, deflate: PerMessageDeflateParameters())
        let compressed = deflater.encodeMessage(.text(String(repeating: "squeeze me ", count: 200)))
        for round in 0..<2000 {
            var input: [UInt8]
            switch round % 3 {
            case 0: input = (0..<Int(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                input = valid
                for _ in 0..<Int(rng.next() % 4 + 1) { input[Int(rng.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            default:
                input = compressed
                for _ in 0..<Int(rng.next() % 3 + 1) { input[Int(rng.next() % UInt64(input.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            }
            let deflate: PerMessageDeflateParameters? = round % 2 == 0 ? PerMessageDeflateParameters() : nil
            var engine = WebSocketEngine(role: .server, configuration: WebSocketConfiguration(maxMessageSize: 4096), deflate: deflate)
            var outputs: [WebSocketEngine.Output] = []
            var offset = 0
            while offset < input.count {
                let n = min(input.count - offset, Int(rng.next() % 64) + 1)
                input[offset..<offset + n].withUnsafeBytes { engine.receive($0, into: &outputs) }
                offset += n
            }
            for output in outputs {
                switch output {
                case .message(let m): XCTAssertLessThanOrEqual(m.count, 4096)
                case .closed(let code, _, _):
                    XCTAssertTrue([1000, 1001, 1002, 1005, 1007, 1009].contains(code.rawValue) || code.isValidOnWire, "code \(code)")
                    XCTAssertEqual(engine.state, .closed)
                default: break
                }
            }
        }
    }

    /// A client must reject masked frames from a server.
    func testClientRejectsMaskedFrames() {
        var engine = WebSocketEngine(role: .client)
        let outputs = engine.receive(Self.frame(opcode: 0x1, Self.text))
        guard case .closed(let code, _, _)? = outputs.last else { return XCTFail("\(outputs)") }
        XCTAssertEqual(code, .protocolError)
        // ...and masks everything it sends.
        var sender = WebSocketEngine(role: .client)
        let sent = sender.encodeMessage(.text("hi"))
        XCTAssertEqual(sent[1] & 0x80, 0x80)
        var server = WebSocketEngine(role: .server)
        XCTAssertEqual(server.receive(sent), [.message(.text("hi"))])
    }
}

