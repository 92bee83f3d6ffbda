import Quantum
import QuantumTestSupport
import XCTest

/// Answers with the body length and the trailers the chunked body carried.
private struct TrailerReport: HandlerModule {
    static let moduleID = "http.handlers.test_trailer_report"
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let trailers = request.body.trailers.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
        return .text("\(body.count) [\(trailers)]")
    }
}

final class TrailerTests: XCTestCase {
    func testChunkedTrailersReachTheHandlerAfterTheBody() async throws {
        var registry = StandardModules.registry
        registry.register(TrailerReport.self)
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "test_trailer_report"}]}]"#, registry: registry)
        let client = try RawClient(port: server.port)
        client.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: y\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.bodyText, "8 [X-Checksum=42;X-Other=y]")
        client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(client.readResponse()?.bodyText, "2 []")
        await server.stop()
    }
}
