import QuantumTestSupport
import XCTest

/// `read_timeout` bounds the time to read a whole request, body included.
final class ReadTimeoutTests: XCTestCase {
    static let routes = #"[{"handle": [{"handler": "test_echo", "mode": "collect"}]}]"#

    func testStalledBodyIsCutByReadTimeout() async throws {
        try await withServer(routes: Self.routes, serverFields: #""read_timeout": "1s""#, registry: coreTestRegistry()) { server in
            let client = try RawClient(port: server.port)
            Sock.send(client.fd, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n")
            Sock.send(client.fd, "only part of it")
            let event = Sock.waitForClose(client.fd, seconds: 4)
            XCTAssertEqual(event, .closed, "a stalled body outlived read_timeout")
        }
    }

    func testBodyWithinReadTimeoutIsServed() async throws {
        try await withServer(routes: Self.routes, serverFields: #""read_timeout": "3s""#, registry: coreTestRegistry()) { server in
            let client = try RawClient(port: server.port)
            Sock.send(client.fd, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\nabcd")
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 1), .stillOpen)
            Sock.send(client.fd, "efgh")
            guard let (r, _) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.bodyText, "abcdefgh")
        }
    }
}
