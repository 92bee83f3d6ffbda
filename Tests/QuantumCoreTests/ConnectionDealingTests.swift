import Quantum
import QuantumTestSupport
import XCTest

/// Accepted connections are dealt to the loops in turn, not left where the kernel's hash of
/// their addresses puts them (`SO_REUSEPORT` often gives one loop clearly more than its share).
final class ConnectionDealingTests: XCTestCase {
    func testConnectionsAreSharedEvenlyByTheLoops() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "ok"}]}]"#)
        var clients: [RawClient] = []
        for _ in 0..<10 {
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.status, 200)
            clients.append(client)
        }
        let counts = await server.app.servers[0].listeners[0].connectionCounts()
        XCTAssertEqual(counts, [5, 5], "two loops, ten open connections")
        // A dealt connection is served like any other: every one still answers.
        for client in clients {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.body, Array("ok".utf8))
        }
        await server.stop()
    }
}
