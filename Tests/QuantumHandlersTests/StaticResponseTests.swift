import Quantum
import QuantumTestSupport
import XCTest

/// `static_response`: status, headers, templated body, automatic Content-Type, close, abort,
/// and the error status in error routes.
final class StaticResponseTests: XCTestCase {
    func respond(_ handler: String, _ request: Request = request("/")) async throws -> (response: Response, body: String) {
        try await send(try Routes.runtime(#"[{"handle": [\#(handler)]}]"#), request)
    }

    func testDefaultsTo200WithNoBodyAndNoContentType() async throws {
        let (response, body) = try await respond(#"{"handler": "static_response"}"#)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(body, "")
        XCTAssertNil(response.headers["Content-Type"])
    }

    func testStatusAsNumberStringOrPlaceholder() async throws {
        let number = try await respond(#"{"handler": "static_response", "status_code": 204}"#)
        let string = try await respond(#"{"handler": "static_response", "status_code": "418"}"#)
        let placeholder = try await respond(#"{"handler": "static_response", "status_code": "{http.request.uri.query.code}"}"#, request("/?code=307"))
        XCTAssertEqual(number.response.status, 204)
        XCTAssertEqual(string.response.status, 418)
        XCTAssertEqual(placeholder.response.status, 307)
    }

    func testAPlaceholderStatusThatIsNotANumberFails() async throws {
        let (response, _) = try await respond(#"{"handler": "static_response", "status_code": "{http.request.uri.query.code}"}"#, request("/?code=abc"))
        XCTAssertEqual(response.status, 500)
    }

    func testInvalidConstantStatusIsAConfigError() {
        for bad in [#""abc""#, "99", "1000"] {
            XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "static_response", "status_code": \#(bad)}]}]"#),
                           "apps.http.servers.srv0.routes[0].handle[0].status_code: invalid status code \"\(bad.replacingOccurrences(of: "\"", with: ""))\"", bad)
        }
    }

    func testHeadersAreSetWithPlaceholders() async throws {
        let (response, _) = try await respond(#"""
        {"handler": "static_response", "headers": {"X-Path": ["{http.request.uri.path}"], "X-Multi": ["a", "b"], "X-Unknown": ["[{nope}]"]}}
        """#, request("/here"))
        XCTAssertEqual(response.headers["X-Path"], "/here")
        XCTAssertEqual(response.headers.values("X-Multi"), ["a", "b"])
        XCTAssertEqual(response.headers["X-Unknown"], "[]", "header values replace unknown placeholders with nothing")
    }

    func testBodyPlaceholdersKeepUnknownOnes() async throws {
        let (_, body) = try await respond(#"{"handler": "static_response", "body": "{http.request.method} {http.request.uri.query.a} {unknown.x} \\{literal\\}"}"#,
                                          request("/?a=1", method: "PUT"))
        XCTAssertEqual(body, "PUT 1 {unknown.x} {literal}")
    }

    func testConstantBodyAndHeadersUnescapeBraces() async throws {
        let (response, body) = try await respond(#"{"handler": "static_response", "status_code": 200, "headers": {"X-T": ["\\{x\\}"]}, "body": "\\{\"a\": 1\\}"}"#)
        XCTAssertEqual(body, #"{"a": 1}"#)
        XCTAssertEqual(response.headers["X-T"], "{x}")
    }

    func testContentTypeIsInferred() async throws {
        let cases: [(String, String?)] = [
            ("hello", "text/plain; charset=utf-8"),
            (#"{\"a\": 1}"#, "application/json"),
            (#"[1, 2]"#, "application/json"),
            (#"\n  {\"a\": [true]}\n"#, "application/json"),
            ("{}", "text/plain; charset=utf-8"),
            (#"{not json}"#, "text/plain; charset=utf-8"),
            (#"{\"a\": 1} trailing"#, "text/plain; charset=utf-8"),
            ("", nil),
        ]
        for (body, expected) in cases {
            let (response, _) = try await respond(#"{"handler": "static_response", "body": "\#(body)"}"#)
            XCTAssertEqual(response.headers["Content-Type"], expected, body)
        }
    }

    func testExplicitContentTypeWins() async throws {
        let (response, _) = try await respond(#"{"handler": "static_response", "headers": {"Content-Type": ["text/html"]}, "body": "[1]"}"#)
        XCTAssertEqual(response.headers.values("Content-Type"), ["text/html"])
    }

    func testDoesNotCallNext() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "static_response", "body": "first"}, {"handler": "static_response", "body": "second"}]},
         {"handle": [{"handler": "static_response", "body": "third"}]}]
        """)
        let (_, body) = try await send(runtime, request("/"))
        XCTAssertEqual(body, "first")
    }

    func testInheritsTheErrorStatusInErrorRoutes() async throws {
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "error", "status_code": 404}]}]"#, errors: """
        [{"match": [{"path": ["/explicit"]}], "handle": [{"handler": "static_response", "status_code": 200, "body": "fine"}]},
         {"handle": [{"handler": "static_response", "body": "custom {http.error.status_code} page"}]}]
        """)
        let inherited = try await send(runtime, request("/x"))
        XCTAssertEqual(inherited.response.status, 404)
        XCTAssertEqual(inherited.body, "custom 404 page")
        let explicit = try await send(runtime, request("/explicit"))
        XCTAssertEqual(explicit.response.status, 200, "an explicit status_code wins over the error's")
    }

    func testOverHTTP() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"path": ["/json"]}], "handle": [{"handler": "static_response", "body": "{\\"ok\\": true}"}]},
         {"match": [{"path": ["/close"]}], "handle": [{"handler": "static_response", "body": "bye", "close": true}]},
         {"handle": [{"handler": "static_response", "status_code": 202, "headers": {"X-Host": ["{http.request.host}"]}, "body": "hi {http.request.uri.path}"}]}]
        """)
        let plain = curl(server.port, "/greet", ["-H", "Host: site.example"])
        XCTAssertEqual(plain.status, 202)
        XCTAssertEqual(plain.body, "hi /greet")
        XCTAssertEqual(plain.header("X-Host"), "site.example")
        XCTAssertEqual(plain.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(plain.header("Content-Length"), "9")
        let json = curl(server.port, "/json")
        XCTAssertEqual(json.header("Content-Type"), "application/json")
        XCTAssertEqual(json.body, #"{"ok": true}"#)
        let close = curl(server.port, "/close")
        XCTAssertEqual(close.body, "bye")
        XCTAssertEqual(close.header("Connection")?.lowercased(), "close")
        await server.stop()
    }

    func testCloseEndsTheConnectionAfterTheResponse() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "bye", "close": true}]}]"#)
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.bodyText, "bye")
        XCTAssertTrue(client.isClosedByPeer(), "close: the server closes the connection after answering")
        await server.stop()
    }

    func testAbortDropsTheConnectionWithoutAResponse() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "never sent", "abort": true}]}]"#)
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readAll(timeout: 5), [], "abort: no bytes at all, just the close")
        let viaCurl = runProcess("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(server.port)/"])
        XCTAssertEqual(viaCurl.status, 52, "curl: empty reply from server")
        await server.stop()
    }
}
