import Quantum
import QuantumTestSupport
import XCTest

/// `subroute`: a route list inside a handler; it falls through to the routes after it and has
/// its own error routes.
final class SubrouteTests: XCTestCase {
    func testRunsItsRoutesInOrder() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute", "routes": [
            {"match": [{"path": ["/a"]}], "handle": [{"handler": "static_response", "body": "a"}]},
            {"match": [{"path": ["/b"]}], "handle": [{"handler": "static_response", "body": "b"}]}]}]},
         {"handle": [{"handler": "static_response", "body": "after"}]}]
        """)
        for (path, expected) in [("/a", "a"), ("/b", "b"), ("/c", "after")] {
            let (_, body) = try await send(runtime, request(path))
            XCTAssertEqual(body, expected, path)
        }
    }

    func testNestedSubroutesUnwindToTheRightOuterRoutes() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute", "routes": [
            {"handle": [{"handler": "subroute", "routes": [
                {"match": [{"path": ["/deep"]}], "handle": [{"handler": "static_response", "body": "deep"}]}]}]},
            {"match": [{"path": ["/mid"]}], "handle": [{"handler": "static_response", "body": "mid"}]}]}]},
         {"handle": [{"handler": "static_response", "body": "top"}]}]
        """)
        for (path, expected) in [("/deep", "deep"), ("/mid", "mid"), ("/other", "top")] {
            let (_, body) = try await send(runtime, request(path))
            XCTAssertEqual(body, expected, path)
        }
    }

    func testRewritesInsideASubrouteReachTheOuterRoutes() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "rewrite", "uri": "/rewritten"}]}]}]},
         {"handle": [{"handler": "static_response", "body": "{http.request.uri.path}"}]}]
        """)
        let (_, body) = try await send(runtime, request("/original"))
        XCTAssertEqual(body, "/rewritten")
    }

    func testGroupsInsideASubroute() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute", "routes": [
            {"group": "g", "match": [{"path": ["/x*"]}], "handle": [{"handler": "static_response", "body": "x"}]},
            {"group": "g", "handle": [{"handler": "static_response", "body": "fallback"}]}]}]}]
        """)
        let x = try await send(runtime, request("/xyz"))
        let other = try await send(runtime, request("/abc"))
        XCTAssertEqual(x.body, "x")
        XCTAssertEqual(other.body, "fallback")
    }

    func testErrorRoutesCatchItsErrorsWithPlaceholders() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute",
           "routes": [{"handle": [{"handler": "error", "status_code": 409, "error": "conflict on {http.request.uri.path}"}]}],
           "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "sub: {http.error.status_code} {http.error.message}"}]}]}}]}]
        """, errors: #"[{"handle": [{"handler": "static_response", "body": "server"}]}]"#)
        let (response, body) = try await send(runtime, request("/item"))
        XCTAssertEqual(response.status, 409)
        XCTAssertEqual(body, "sub: 409 conflict on /item")
    }

    func testAnErrorInItsErrorRoutesGoesToTheServerErrorRoutes() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute",
           "routes": [{"handle": [{"handler": "error", "status_code": 404}]}],
           "errors": {"routes": [{"handle": [{"handler": "error", "status_code": 503, "error": "second"}]}]}}]}]
        """, errors: #"[{"handle": [{"handler": "static_response", "body": "server: {http.error.status_code} {http.error.message}"}]}]"#)
        let (response, body) = try await send(runtime, request("/"))
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(body, "server: 503 second")
    }

    func testEmptySubrouteFallsThrough() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "subroute"}]}, {"handle": [{"handler": "static_response", "body": "next"}]}]
        """)
        let (_, body) = try await send(runtime, request("/"))
        XCTAssertEqual(body, "next")
    }

    func testUnknownFieldIsAConfigError() {
        XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "subroute", "route": []}]}]"#),
                       #"apps.http.servers.srv0.routes[0].handle[0]: unknown field "route"; did you mean "routes"?"#)
        XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "nope"}]}]}]}]"#),
                       #"apps.http.servers.srv0.routes[0].handle[0].routes[0].handle[0].handler: unknown handler "nope"; known: \#(StandardModules.registry.names(in: "http.handlers").joined(separator: ", "))"#)
    }

    func testOverHTTP() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"host": ["app.example"]}], "terminal": true, "handle": [{"handler": "subroute",
            "routes": [{"handle": [{"handler": "headers", "response": {"set": {"X-App": ["1"]}}}]},
                       {"match": [{"path": ["/api/*"]}], "handle": [{"handler": "error", "status_code": 501, "error": "soon"}]},
                       {"handle": [{"handler": "static_response", "body": "app home"}]}],
            "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "app error {http.error.status_code}"}]}]}}]},
         {"handle": [{"handler": "static_response", "body": "default site"}]}]
        """)
        let home = curl(server.port, "/", ["-H", "Host: app.example"])
        XCTAssertEqual(home.body, "app home")
        XCTAssertEqual(home.header("X-App"), "1")
        let api = curl(server.port, "/api/x", ["-H", "Host: app.example"])
        XCTAssertEqual(api.status, 501)
        XCTAssertEqual(api.body, "app error 501")
        XCTAssertEqual(curl(server.port, "/", ["-H", "Host: other.example"]).body, "default site")
        await server.stop()
    }
}
