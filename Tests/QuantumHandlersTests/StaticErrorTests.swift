import Quantum
import QuantumTestSupport
import XCTest

/// `error`: fails the request with a status and message so the error routes run.
final class StaticErrorTests: XCTestCase {
    static let showError = #"[{"handle": [{"handler": "static_response", "body": "{http.error.status_code}|{http.error.status_text}|{http.error.message}"}]}]"#

    func testDefaultsTo500() async throws {
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "error"}]}]"#, errors: Self.showError)
        let (response, body) = try await send(runtime, request("/"))
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(body, "500|Internal Server Error|")
    }

    func testStatusAndMessageWithPlaceholders() async throws {
        let runtime = try Routes.runtime(#"""
        [{"handle": [{"handler": "error", "status_code": "{http.request.uri.query.code}", "error": "no {http.request.uri.path} for you"}]}]
        """#, errors: Self.showError)
        let (response, body) = try await send(runtime, request("/soup?code=403"))
        XCTAssertEqual(response.status, 403)
        XCTAssertEqual(body, "403|Forbidden|no /soup for you")
    }

    func testUnknownPlaceholdersStayInTheMessage() async throws {
        // Caddy renders the message with ReplaceKnown.
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "error", "status_code": 400, "error": "bad {nope.x}"}]}]"#, errors: Self.showError)
        let (_, body) = try await send(runtime, request("/"))
        XCTAssertEqual(body, "400|Bad Request|bad {nope.x}")
    }

    func testStatusMustBeAnErrorStatus() async throws {
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "error", "status_code": "{http.request.uri.query.code}"}]}]"#, errors: Self.showError)
        for (code, expected) in [("404", 404), ("599", 599), ("302", 500), ("200", 500), ("x", 500)] {
            let (response, _) = try await send(runtime, request("/?code=\(code)"))
            XCTAssertEqual(response.status, expected, code)
        }
    }

    func testWithoutErrorRoutesTheStatusIsSentWithAnEmptyBody() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "error", "status_code": 404, "error": "secret detail"}]}]"#)
        let result = curl(server.port, "/missing")
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(result.body, "")
        XCTAssertEqual(result.header("Content-Length"), "0")
        await server.stop()
    }

    func testOverHTTPWithErrorRoutes() async throws {
        let server = try await TestServer.start(
            routes: #"[{"match": [{"path": ["/admin*"]}], "handle": [{"handler": "error", "status_code": 401, "error": "login first"}]}]"#,
            errors: #"[{"handle": [{"handler": "static_response", "headers": {"WWW-Authenticate": ["Basic"]}, "body": "{http.error.status_code}: {http.error.message}"}]}]"#)
        let result = curl(server.port, "/admin/panel")
        XCTAssertEqual(result.status, 401)
        XCTAssertEqual(result.body, "401: login first")
        XCTAssertEqual(result.header("WWW-Authenticate"), "Basic")
        XCTAssertEqual(curl(server.port, "/open").status, 200)
        await server.stop()
    }
}
