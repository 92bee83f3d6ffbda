import QuantumCore
import XCTest

/// permessage-deflate: RFC 7692 §7.2.3's example messages, and the parameter negotiation.
final class WebSocketDeflateTests: XCTestCase {
    static let hello = WebSocketMessage.text("Hello")

    /// Server frames (unmasked) decoded by a client that negotiated permessage-deflate.
    private func receive(_ bytes: [UInt8], parameters: PerMessageDeflateParameters = PerMessageDeflateParameters()) -> [WebSocketEngine.Output] {
        var engine = WebSocketEngine(role: .client, deflate: parameters)
        return engine.receive(bytes)
    }

    func testRFC7692Examples() {
        // §7.2.3.1: a message compressed in one frame, and the same split in two fragments.
        XCTAssertEqual(receive([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), [.message(Self.hello)])
        XCTAssertEqual(receive([0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]), [.message(Self.hello)])
        // §7.2.3.2: the second message refers back into the first one's window.
        XCTAssertEqual(receive([0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]),
                       [.message(Self.hello), .message(Self.hello)])
        // §7.2.3.3: a stored (uncompressed) DEFLATE block.
        XCTAssertEqual(receive([0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]), [.message(Self.hello)])
        // §7.2.3.4: a block with BFINAL set.
        XCTAssertEqual(receive([0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]), [.message(Self.hello)])
        // §7.2.3.5: two DEFLATE blocks in one message.
        XCTAssertEqual(receive([0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]),
                       [.message(Self.hello)])
        // §7.2.3.6: an empty message compresses to a single 0x00 byte.
        XCTAssertEqual(receive([0xc1, 0x01, 0x00]), [.message(.text(""))])
        // A message after a BFINAL one still decodes (a new stream starts).
        XCTAssertEqual(receive([0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
                       [.message(Self.hello), .message(Self.hello)])
    }

    /// Our compressor produces the RFC's bytes: "Hello" alone, then again sharing the window.
    func testCompressorMatchesRFC7692Examples() {
        var server = WebSocketEngine(role: .server, deflate: PerMessageDeflateParameters())
        XCTAssertEqual(server.encodeMessage(Self.hello), [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        XCTAssertEqual(server.encodeMessage(Self.hello), [0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00])
        XCTAssertEqual(server.encodeMessage(.text("")), [0xc1, 0x01, 0x00])
        // Without context takeover every message stands alone.
        var fresh = WebSocketEngine(role: .server, deflate: PerMessageDeflateParameters(serverNoContextTakeover: true))
        XCTAssertEqual(fresh.encodeMessage(Self.hello), [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        XCTAssertEqual(fresh.encodeMessage(Self.hello), [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
    }

    /// Client and server engines round-trip messages of many shapes in both directions.
    func testRoundTripsThroughBothEngines() {
        for parameters in [PerMessageDeflateParameters(), PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true),
                           PerMessageDeflateParameters(serverMaxWindowBits: 8, clientMaxWindowBits: 9)] {
            var server = WebSocketEngine(role: .server, deflate: parameters)
            var client = WebSocketEngine(role: .client, deflate: parameters)
            let messages: [WebSocketMessage] = [
                .text("Hello"), .text(""), .binary([]), .text(String(repeating: "abcdefgh", count: 10000)),
                .binary((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }), .text("ünïcødé ✓ 😀"),
            ]
            for m in messages {
                XCTAssertEqual(server.receive(client.encodeMessage(m)), [.message(m)], "\(parameters)")
                XCTAssertEqual(client.receive(server.encodeMessage(m)), [.message(m)], "\(parameters)")
            }
        }
    }

    func testNegotiation() {
        func negotiate(_ header: String, _ config: WebSocketCompression = WebSocketCompression(maxWindowBits: 15)) -> String? {
            guard let offers = WebSocketExtension.parse([header]) else { return "malformed" }
            return PerMessageDeflateParameters.negotiate(offers: offers, configuration: config).map { $0.extensionValue.headerValue }
        }
        XCTAssertEqual(negotiate("permessage-deflate"), "permessage-deflate")
        XCTAssertEqual(negotiate("permessage-deflate; client_max_window_bits"), "permessage-deflate")
        XCTAssertEqual(negotiate("permessage-deflate; server_no_context_takeover"), "permessage-deflate; server_no_context_takeover")
        XCTAssertEqual(negotiate("permessage-deflate; client_no_context_takeover"), "permessage-deflate; client_no_context_takeover")
        XCTAssertEqual(negotiate("permessage-deflate; server_max_window_bits=10"), "permessage-deflate; server_max_window_bits=10")
        XCTAssertEqual(negotiate("permessage-deflate; server_max_window_bits=\"8\""), "permessage-deflate; server_max_window_bits=8")
        // Our own limits: a smaller window for us, one asked of a client that allows it.
        let small = WebSocketCompression(noContextTakeover: true, requestPeerNoContextTakeover: true, maxWindowBits: 11, peerMaxWindowBits: 10)
        XCTAssertEqual(negotiate("permessage-deflate; client_max_window_bits", small),
                       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10")
        XCTAssertEqual(negotiate("permessage-deflate; server_max_window_bits=9", small),
                       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9")
        // Invalid offers are declined; the next acceptable one wins.
        XCTAssertNil(negotiate("permessage-deflate; server_max_window_bits=7"))
        XCTAssertNil(negotiate("permessage-deflate; server_max_window_bits=16"))
        XCTAssertNil(negotiate("permessage-deflate; server_max_window_bits"))
        XCTAssertNil(negotiate("permessage-deflate; server_max_window_bits=010"))
        XCTAssertNil(negotiate("permessage-deflate; unknown_param"))
        XCTAssertNil(negotiate("permessage-deflate; server_no_context_takeover; server_no_context_takeover"))
        XCTAssertNil(negotiate("permessage-deflate; server_no_context_takeover=1"))
        XCTAssertNil(negotiate("x-webkit-deflate-frame"))
        XCTAssertEqual(negotiate("permessage-deflate; foo, permessage-deflate; client_no_context_takeover"),
                       "permessage-deflate; client_no_context_takeover")
        // The default configuration keeps the server's window at 12 bits.
        XCTAssertEqual(negotiate("permessage-deflate", WebSocketCompression()), "permessage-deflate; server_max_window_bits=12")
        XCTAssertEqual(negotiate("permessage-deflate; server_max_window_bits=10", WebSocketCompression()), "permessage-deflate; server_max_window_bits=10")
        XCTAssertEqual(negotiate("permessage-deflate;;"), "malformed")
    }

    func testClientChecksTheServersResponse() {
        let offer = PerMessageDeflateParameters.offer(WebSocketCompression(maxWindowBits: 15))
        XCTAssertEqual(offer.extensionValue.headerValue, "permessage-deflate; client_max_window_bits")
        XCTAssertEqual(PerMessageDeflateParameters.offer(WebSocketCompression()).extensionValue.headerValue,
                       "permessage-deflate; client_max_window_bits=12")
        func accepts(_ response: PerMessageDeflateParameters, _ offer: PerMessageDeflateParameters) -> Bool {
            PerMessageDeflateParameters.accept(response: response, offered: offer)
        }
        XCTAssertTrue(accepts(PerMessageDeflateParameters(), offer))
        XCTAssertTrue(accepts(PerMessageDeflateParameters(clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12), offer))
        var strict = PerMessageDeflateParameters.offer(WebSocketCompression(maxWindowBits: 10, peerMaxWindowBits: 9))
        XCTAssertEqual(strict.extensionValue.headerValue, "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10")
        XCTAssertFalse(accepts(PerMessageDeflateParameters(serverMaxWindowBits: 12), strict), "a larger window than asked")
        XCTAssertFalse(accepts(PerMessageDeflateParameters(), strict), "no window limit at all means 15")
        XCTAssertFalse(accepts(PerMessageDeflateParameters(serverMaxWindowBits: 9, clientMaxWindowBits: 11), strict))
        strict.serverNoContextTakeover = true
        XCTAssertFalse(accepts(PerMessageDeflateParameters(serverMaxWindowBits: 9), strict), "server_no_context_takeover must be honoured")
        XCTAssertFalse(accepts(PerMessageDeflateParameters(clientMaxWindowBits: 10), PerMessageDeflateParameters()),
                       "client_max_window_bits in a response needs it in the offer")
    }

    /// A small compressed message may not inflate past the message limit (a zip bomb): 1009,
    /// noticed while inflating, without holding the whole expansion.
    func testInflationIsBoundedByMaxMessageSize() {
        var sender = WebSocketEngine(role: .client, deflate: PerMessageDeflateParameters())
        let bomb = sender.encodeMessage(.binary([UInt8](repeating: 0, count: 4 << 20)))
        XCTAssertLessThan(bomb.count, 10_000)
        var receiver = WebSocketEngine(role: .server, configuration: WebSocketConfiguration(maxMessageSize: 1 << 20), deflate: PerMessageDeflateParameters())
        let outputs = receiver.receive(bomb)
        guard case .closed(let code, _, let error)? = outputs.last else { return XCTFail("\(outputs)") }
        XCTAssertEqual(code, .messageTooBig)
        XCTAssertNotNil(error)
    }
}
