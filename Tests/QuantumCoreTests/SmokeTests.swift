import QuantumCore
import QuantumTestSupport
import XCTest

final class SmokeTests: XCTestCase {
    func testServesHelloOverRawSocket() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "body": "Hello, World!"}]}]
        """)
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.bodyText, "Hello, World!")
        XCTAssertEqual(response?.header("Server"), "Quantum")
        await server.stop()
    }
}
