import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `test_trailers`: streams "part one, part two" and sets an `X-Checksum` trailer (plus a
/// forbidden `Content-Length` one that must never go out).
struct TrailerHandler: HandlerModule {
    static let moduleID = "http.handlers.test_trailers"
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        Response(status: 200, body: .stream(length: nil) { writer in
            try await writer.write(Array("part one, ".utf8))
            try await writer.write(Array("part two".utf8))
            writer.setTrailers(HTTPFields([("X-Checksum", "sha256=abc"), ("Content-Length", "999"), ("X-Bad", "a\r\nInjected: 1")]))
        })
    }
}

/// Response trailers on HTTP/1.1 (chunked) and HTTP/2.
final class ResponseTrailerTests: XCTestCase {
    static func registry() -> ModuleRegistry {
        var r = coreTestRegistry()
        r.register(TrailerHandler.self)
        return r
    }

    func testChunkedHTTP1CarriesTrailers() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "test_trailers"}]}]"#, registry: Self.registry())
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n")
        let raw = String(decoding: client.readAll(), as: UTF8.self)
        XCTAssertTrue(raw.contains("Transfer-Encoding: chunked"), raw)
        XCTAssertTrue(raw.hasSuffix("0\r\nX-Checksum: sha256=abc\r\n\r\n"), raw)
        XCTAssertFalse(raw.contains("999") || raw.contains("Injected"), "forbidden and malformed trailers are dropped")
        await server.stop()
    }

    func testHTTP2CarriesTrailers() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "test_trailers"}]}]"#,
                                                serverFields: #""protocols": ["h1", "h2", "h2c"]"#, registry: Self.registry())
        let r = runProcess("nghttp", ["-v", "http://127.0.0.1:\(server.port)/"], timeout: 20)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("part one, part two"), r.output)
        XCTAssertTrue(r.output.contains("x-checksum: sha256=abc"), r.output)
        XCTAssertFalse(r.output.contains("999"), r.output)
        await server.stop()
    }
}
