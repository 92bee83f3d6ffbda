import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Graceful stop: listeners close at once, idle connections close, and a request already
/// being handled finishes before its connection closes.
final class ShutdownTests: XCTestCase {
    func testInFlightRequestCompletesWhileNewConnectionsAreRefused() async throws {
        let key = "shutdown-\(UInt64.random(in: 0...UInt64.max))"
        let server = try await TestServer.start(routes: """
        [
          {"match": [{"path": ["/slow"]}], "handle": [{"handler": "test_sleep", "millis": 500, "key": "\(key)"}]},
          {"handle": [{"handler": "static_response", "body": "fast"}]}
        ]
        """, registry: coreTestRegistry())
        let port = server.port

        // One idle keep-alive connection, one request in flight.
        let idle = try RawClient(port: port)
        Sock.send(idle.fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(Sock.readResponse(idle.fd, seconds: 5)?.0.bodyText, "fast")
        let busy = try RawClient(port: port)
        Sock.send(busy.fd, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let startDeadline = Sock.now() + 5
        while Board.shared.value(key + ".started") == 0 && Sock.now() < startDeadline { usleep(5000) }
        XCTAssertEqual(Board.shared.value(key + ".started"), 1, "the slow handler never started")
        XCTAssertEqual(Board.shared.value(key + ".finished"), 0, "precondition: stop begins while the request is in flight")

        let stopping = Task { await server.app.stop(graceNanos: 5_000_000_000) }

        // New connections are refused once the listeners are closed.
        var refused = false
        let refuseDeadline = Sock.now() + 3
        while !refused && Sock.now() < refuseDeadline {
            if (try? RawClient(port: port)) == nil { refused = true } else { usleep(10_000) }
        }
        XCTAssertTrue(refused, "still accepting connections while stopping")
        XCTAssertEqual(Sock.waitForClose(idle.fd, seconds: 3), .closed, "idle connection left open")

        // The request in flight still gets its whole response, then the connection closes.
        if let (r, rest) = Sock.readResponse(busy.fd, seconds: 5) {
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "slept")
            XCTAssertEqual(r.header("Connection")?.lowercased(), "close")
            XCTAssertEqual(rest, [])
        } else {
            XCTFail("the in-flight request was cut by the stop")
        }
        XCTAssertEqual(Sock.waitForClose(busy.fd, seconds: 3), .closed)
        await stopping.value
        XCTAssertEqual(Board.shared.value(key + ".finished"), 1)
        XCTAssertNil(try? RawClient(port: port), "accepting again after stop")
        server.group.shutdown()
    }
}
