import CQuantumLinux
@testable import QuantumCore
import XCTest

/// The HTTP/1 server protocol without a socket: bytes fed to a `MemoryWire`, answers read back,
/// the clock played forward by hand (beside the socket tests of `HTTP1ConnectionTests`).
final class HTTP1ConnectionWiredTests: XCTestCase {
    static let routes = """
    [
      {"match": [{"path": ["/a"]}], "handle": [{"handler": "static_response", "body": "A"}]},
      {"match": [{"path": ["/big"]}], "handle": [{"handler": "test_stream", "total": 4194304, "piece": 65536}]},
      {"match": [{"path": ["/echo"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
      {"match": [{"path": ["/k"]}], "handle": [{"handler": "static_response", "body": "\(String(repeating: "k", count: 10_000))"}]},
      {"handle": [{"handler": "static_response", "body": "hello"}]}
    ]
    """

    func wired(_ fields: String = "", window: Int? = nil) async throws -> WiredConnection {
        try await WiredConnection(routes: Self.routes, serverFields: fields, window: window)
    }

    func testPipelinedRequestsInOneReadAreAnsweredInOrder() async throws {
        let c = try await wired()
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = await c.text(untilContains: "HTTP/1.1 200", count: 3)
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix(while: { $0 != "H" }) }
        XCTAssertEqual(bodies.map(String.init), ["A", "hello", "A"], text)
        let closed = await c.inspect { $0.closed }
        XCTAssertFalse(closed, "keep-alive: the connection stays open")
    }

    func testARequestArrivingOneByteAtATimeIsAnsweredOnce() async throws {
        let c = try await wired()
        for byte in Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8) { await c.send([byte]) }
        let text = await c.text(untilContains: "HTTP/1.1 200")
        XCTAssertTrue(text.hasSuffix("\r\n\r\nA"), text)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1").count, 2, "one answer: \(text)")
    }

    func testABodyInManyPiecesReachesTheHandlerWhole() async throws {
        let c = try await wired()
        let body = String(repeating: "0123456789", count: 10_000)
        await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        for piece in Array(body.utf8).chunked(into: 7_000) { await c.send(piece) }
        let text = await c.text(untilContains: "0123456789", count: 10_000)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 200"), String(text.prefix(200)))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n" + body), "the body comes back whole")
    }

    func testAMalformedRequestGets400AndTheConnectionEnds() async throws {
        let c = try await wired()
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        let text = await c.text(untilContains: "HTTP/1.1 400")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 400"), text)
        let closed = await c.eventually { $0.closed }
        XCTAssertTrue(closed, "closed once the 400 was written")
    }

    func testAHalfClosedPeerGetsItsAnswerAndThenTheEnd() async throws {
        let c = try await wired()
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        await c.endInput()
        let text = await c.text(untilContains: "HTTP/1.1 200")
        XCTAssertTrue(text.hasSuffix("\r\n\r\nA"), text)
        let closed = await c.eventually { $0.closed }
        XCTAssertTrue(closed)
    }

    /// A peer that reads nothing: the answer waits in a bounded queue, the connection asks for
    /// writability (not more input), and everything arrives once the peer reads.
    func testAPeerThatDoesNotReadHoldsTheAnswerBackWithinBounds() async throws {
        let c = try await wired(window: 0)
        await c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        let waiting = await c.eventually { $0.interest & EPOLLOUT.rawValue != 0 }
        XCTAssertTrue(waiting, "a blocked write asks for EPOLLOUT")
        try await Task.sleep(nanoseconds: 100_000_000)
        let pending = await c.loop.submit { [registry = c.registry] in
            registry.connections.values.compactMap { ($0 as? HTTP1Connection)?.pendingOutput }.first ?? -1
        }
        XCTAssertGreaterThan(pending, 0)
        XCTAssertLessThanOrEqual(pending, 2 * BodyStream.highWatermark, "the producer waits instead of queueing 4 MiB")
        await c.open(window: nil)
        let all = await c.output { $0.count > 4_194_304 && $0.suffix(5) == Array("0\r\n\r\n".utf8) }
        XCTAssertGreaterThan(all.count, 4_194_304)
    }

    /// Pipelined requests whose answers the peer does not read: once the answers back up, the
    /// requests after them stay unread in the socket's buffer (reading paused); when the peer
    /// reads, every one is answered.
    func testPipelinedRequestsWaitUnreadWhileAnswersBackUp() async throws {
        let c = try await wired(window: 0)
        let request = "GET /k HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 1000))\r\n\r\n"
        await c.send(String(repeating: request, count: 100))
        let paused = await c.eventually { $0.interest & EPOLLIN.rawValue == 0 && !$0.input.isEmpty }
        XCTAssertTrue(paused, "reading stops with requests left unread")
        await c.open(window: nil)
        let text = await c.text(untilContains: "HTTP/1.1 200", count: 100)
        XCTAssertEqual(text.components(separatedBy: "HTTP/1.1 200").count - 1, 100)
        let drained = await c.inspect { $0.input.isEmpty && $0.interest & EPOLLIN.rawValue != 0 }
        XCTAssertTrue(drained, "everything read, reading again")
    }

    func testAnIdleConnectionClosesAfterItsIdleTimeout() async throws {
        let c = try await wired(#""idle_timeout": "2s""#)
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = await c.text(untilContains: "HTTP/1.1 200")
        await c.tick(after: 1)
        let early = await c.inspect { $0.closed }
        XCTAssertFalse(early, "still within the idle timeout")
        await c.tick(after: 3)
        let late = await c.inspect { $0.closed }
        XCTAssertTrue(late, "closed past the idle timeout")
    }

    func testAHeadThatNeverEndsIsDroppedAfterTheHeaderTimeout() async throws {
        let c = try await wired(#""read_header_timeout": "2s", "idle_timeout": "60s""#)
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\n")
        await c.tick(after: 1)
        let early = await c.inspect { $0.closed }
        XCTAssertFalse(early)
        await c.tick(after: 3)
        let late = await c.inspect { ($0.closed, $0.output.count) }
        XCTAssertTrue(late.0, "a slow head is dropped")
        XCTAssertEqual(late.1, 0, "without an answer")
    }

    // MARK: - Choosing HTTP/2

    func testThePrefaceInTheClearChoosesHTTP2BeforeAnyHTTP1Object() async throws {
        let c = try await wired(#""protocols": ["h1", "h2c"]"#)
        let chosenEarly = await c.inspect { $0.handler is ProtocolSelector }
        XCTAssertTrue(chosenEarly, "a selector holds the socket until the first bytes say")
        await c.send(Array(HTTP2Upgrade.preface.prefix(10)))
        let stillChoosing = await c.inspect { $0.handler is ProtocolSelector }
        XCTAssertTrue(stillChoosing, "part of the preface decides nothing")
        await c.send(Array(HTTP2Upgrade.preface.dropFirst(10)))
        let h2 = await c.inspect { $0.handler is HTTP2Connection }
        XCTAssertTrue(h2)
        let settings = await c.output { $0.count >= 9 }
        XCTAssertEqual(settings.count >= 9 ? settings[3] : 0xff, 0x04, "the server's first frame is SETTINGS")
    }

    func testOtherFirstBytesChooseHTTP1() async throws {
        let c = try await wired(#""protocols": ["h1", "h2c"]"#)
        await c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        let text = await c.text(untilContains: "HTTP/1.1 200")
        XCTAssertTrue(text.hasSuffix("\r\n\r\nhi"), text)
        let h1 = await c.inspect { $0.handler is HTTP1Connection }
        XCTAssertTrue(h1)
    }

    func testUpgradeToH2cHandsTheSocketToHTTP2() async throws {
        let c = try await wired(#""protocols": ["h1", "h2c"]"#)
        await c.send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
        let switched = await c.text(untilContains: "101 Switching Protocols")
        XCTAssertTrue(switched.hasPrefix("HTTP/1.1 101 Switching Protocols"), switched)
        let h2 = await c.inspect { $0.handler is HTTP2Connection }
        XCTAssertTrue(h2, "HTTP/2 took the socket")
    }
}

private extension Array {
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
