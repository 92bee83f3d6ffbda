import Quantum
import QuantumHandlers
import QuantumTestSupport
import XCTest

/// `request_body`: `max_size` caps what later handlers may read; reading past it is a 413.
final class RequestBodyTests: XCTestCase {
    static let routes = """
    [{"match": [{"path": ["/limited/*"]}], "handle": [{"handler": "request_body", "max_size": 10}]},
     {"match": [{"path": ["*/read"]}], "handle": [{"handler": "test_read_body"}]},
     {"handle": [{"handler": "static_response", "body": "not read"}]}]
    """

    func testReadingWithinTheLimit() async throws {
        let runtime = try Routes.runtime(Self.routes, registry: registryWithBodyReader)
        let (response, body) = try await send(runtime, request("/limited/read", method: "POST", body: Array("0123456789".utf8)))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(body, "read 10 bytes")
    }

    func testReadingPastTheLimitIs413() async throws {
        let runtime = try Routes.runtime(Self.routes, registry: registryWithBodyReader)
        let (response, _) = try await send(runtime, request("/limited/read", method: "POST", body: Array("0123456789A".utf8)))
        XCTAssertEqual(response.status, 413)
    }

    func testABodyNobodyReadsIsNotRejected() async throws {
        // Caddy wraps the body; only a read past max_size fails.
        let runtime = try Routes.runtime(Self.routes, registry: registryWithBodyReader)
        let (response, body) = try await send(runtime, request("/limited/x", method: "POST", body: Array(repeating: 65, count: 100)))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(body, "not read")
    }

    func testOtherRoutesAreUnlimited() async throws {
        let runtime = try Routes.runtime(Self.routes, registry: registryWithBodyReader)
        let (_, body) = try await send(runtime, request("/open/read", method: "POST", body: Array(repeating: 65, count: 100)))
        XCTAssertEqual(body, "read 100 bytes")
    }

    func testSizesWithUnits() throws {
        for (size, bytes) in [(#""1KB""#, 1000), (#""1KiB""#, 1024), (#""2MB""#, 2_000_000), ("512", 512)] {
            let s = try Routes.server(#"[{"handle": [{"handler": "request_body", "max_size": \#(size)}]}]"#)
            let handler = try XCTUnwrap(s.routes.routes[0].handlers[0] as? RequestBodyLimit)
            XCTAssertEqual(handler.maxSize?.bytes, bytes, size)
        }
        XCTAssertNotNil(Routes.loadError(#"[{"handle": [{"handler": "request_body", "max_size": "lots"}]}]"#))
    }

    func testOverHTTP() async throws {
        let server = try await TestServer.start(routes: Self.routes, registry: registryWithBodyReader)
        let small = curl(server.port, "/limited/read", ["--data-binary", "tiny"])
        XCTAssertEqual(small.status, 200)
        XCTAssertEqual(small.body, "read 4 bytes")
        let big = curl(server.port, "/limited/read", ["--data-binary", String(repeating: "x", count: 5000)])
        XCTAssertEqual(big.status, 413)
        let chunked = curl(server.port, "/limited/read", ["-H", "Transfer-Encoding: chunked", "--data-binary", String(repeating: "y", count: 50)])
        XCTAssertEqual(chunked.status, 413)
        let unread = curl(server.port, "/limited/x", ["--data-binary", String(repeating: "z", count: 5000)])
        XCTAssertEqual(unread.status, 200)
        XCTAssertEqual(unread.body, "not read")
        // The connection stays usable after a 413 or an unread body.
        let again = curl(server.port, "/open/read", ["--data-binary", "abc"])
        XCTAssertEqual(again.body, "read 3 bytes")
        await server.stop()
    }
}
