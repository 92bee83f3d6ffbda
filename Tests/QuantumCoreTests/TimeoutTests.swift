import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Server timeouts: a head that never completes and an idle keep-alive connection are cut; a
/// request still in progress is not. (The loops check timeouts once a second.)
final class TimeoutTests: XCTestCase {
    static let routes = """
    [
      {"match": [{"path": ["/slow"]}], "handle": [{"handler": "test_sleep", "millis": 2500}]},
      {"match": [{"path": ["/collect"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
      {"handle": [{"handler": "static_response", "body": "fast"}]}
    ]
    """

    func serve(_ fields: String, _ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: Self.routes, serverFields: fields, registry: coreTestRegistry(), body)
    }

    func testPartialHeadIsCutByReadHeaderTimeout() async throws {
        try await serve(#""read_header_timeout": "1s""#) { server in
            let client = try RawClient(port: server.port)
            Sock.send(client.fd, "GET / HTTP/1.1\r\nHost: loc")
            let start = Sock.now()
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 3.5), .closed)
            XCTAssertGreaterThan(Sock.now() - start, 0.5, "closed at once rather than by the timeout")
            XCTAssertEqual(freshGet(server.port)?.bodyText, "fast")
        }
    }

    /// A connection that never sends a byte is timed like a head from accept, not held for
    /// the (much longer) idle timeout.
    func testSilentConnectionIsCutByReadHeaderTimeout() async throws {
        try await serve(#""read_header_timeout": "1s", "idle_timeout": "1m""#) { server in
            let client = try RawClient(port: server.port)
            let start = Sock.now()
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 4), .closed, "a silent connection outlived read_header_timeout")
            XCTAssertGreaterThan(Sock.now() - start, 0.5, "closed at once rather than by the timeout")
            // After a first request the idle timeout applies again.
            let kept = try RawClient(port: server.port)
            Sock.send(kept.fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertNotNil(Sock.readResponse(kept.fd, seconds: 5))
            XCTAssertEqual(Sock.waitForClose(kept.fd, seconds: 2.5), .stillOpen, "an idle keep-alive connection waits for idle_timeout")
        }
    }

    func testDripFedHeadIsCutByReadHeaderTimeout() async throws {
        try await serve(#""read_header_timeout": "1s""#) { server in
            let client = try RawClient(port: server.port)
            Sock.setNoDelay(client.fd)
            Sock.send(client.fd, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Drip: ")
            // A byte every 250 ms keeps the connection busy but never finishes the head.
            var outcome = Sock.PeerEvent.stillOpen
            let deadline = Sock.now() + 3.5
            while Sock.now() < deadline {
                Sock.send(client.fd, "d")
                outcome = Sock.waitForClose(client.fd, seconds: 0.25)
                if outcome != .stillOpen { break }
            }
            XCTAssertEqual(outcome, .closed, "a slowly dripped head must still be cut")
        }
    }

    func testIdleKeepAliveConnectionIsClosed() async throws {
        try await serve(#""idle_timeout": "1s""#) { server in
            let client = try RawClient(port: server.port)
            Sock.send(client.fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.bodyText, "fast")
            XCTAssertNil(r.header("Connection"), "the connection was offered for reuse")
            XCTAssertEqual(rest, [])
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 3.5), .closed, "idle connection not closed")
        }
    }

    func testSlowHandlerIsNotCutByIdleTimeout() async throws {
        try await serve(#""idle_timeout": "1s""#) { server in
            let client = try RawClient(port: server.port)
            Sock.send(client.fd, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
            guard let (r, _) = Sock.readResponse(client.fd, seconds: 6) else { return XCTFail("the slow request was cut") }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "slept")
        }
    }

    func testSlowUploadIsNotCutByIdleTimeout() async throws {
        try await serve(#""idle_timeout": "1s""#) { server in
            let client = try RawClient(port: server.port)
            Sock.setNoDelay(client.fd)
            Sock.send(client.fd, "POST /collect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\n")
            Sock.send(client.fd, "abcd")
            // A pause longer than the idle timeout, in the middle of a body: not idle.
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 2.5), .stillOpen, "cut mid-upload")
            Sock.send(client.fd, "efgh")
            guard let (r, _) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "abcdefgh")
        }
    }
}
