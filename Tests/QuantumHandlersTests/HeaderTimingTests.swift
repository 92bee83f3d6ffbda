import Quantum
import QuantumTestSupport
import XCTest

/// When `headers` writes response headers: before `next` (Caddy's default, so later handlers
/// win) or after it (`deferred`, so this handler wins), and what error routes still see.
/// Each expectation was checked against caddy with the same JSON.
final class HeaderTimingTests: XCTestCase {
    func get(_ server: TestServer, _ path: String) -> HTTPTestResponse? {
        guard let client = try? RawClient(port: server.port) else { return nil }
        client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        return client.readResponse()
    }

    func testALaterRouteOverridesAnEarlierHeadersRoute() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "headers", "response": {"set": {"Cache-Control": ["public"]}}}]},
         {"match": [{"path": ["/private/*"]}],
          "handle": [{"handler": "headers", "response": {"set": {"Cache-Control": ["no-store"]}}}]},
         {"handle": [{"handler": "static_response", "body": "ok"}]}]
        """)
        XCTAssertEqual(get(server, "/private/x")?.header("Cache-Control"), "no-store")
        XCTAssertEqual(get(server, "/public")?.header("Cache-Control"), "public")
        await server.stop()
    }

    func testTheRespondingHandlersOwnHeaderWins() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "headers", "response": {"set": {"X-A": ["from-headers"]}, "add": {"X-B": ["b"]}}},
                     {"handler": "static_response", "headers": {"X-A": ["from-static"]}, "body": "ok"}]}]
        """)
        let response = get(server, "/")
        XCTAssertEqual(response?.header("X-A"), "from-static")
        XCTAssertEqual(response?.header("X-B"), "b")
        XCTAssertEqual(response?.headers.filter { $0.0 == "X-A" }.count, 1)
        await server.stop()
    }

    func testDeferredHeadersApplyLastAndDeleteLaterHeaders() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "headers", "response": {"set": {"X-A": ["outer"]}, "delete": ["X-Secret"], "deferred": true}},
                     {"handler": "static_response", "headers": {"X-A": ["inner"], "X-Secret": ["s"]}, "body": "ok"}]}]
        """)
        let response = get(server, "/")
        XCTAssertEqual(response?.header("X-A"), "outer")
        XCTAssertNil(response?.header("X-Secret"))
        await server.stop()
    }

    func testErrorRoutesSeeVarsAndEarlyHeadersFromBeforeTheError() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "vars", "who": "ann"},
                     {"handler": "headers", "response": {"set": {"X-Early": ["yes"]}}},
                     {"handler": "error", "error": "nope", "status_code": 403}]}]
        """, errors: """
        [{"handle": [{"handler": "static_response", "body": "who={http.vars.who} {http.error.status_code} {http.error.message}"}]}]
        """)
        let response = get(server, "/")
        XCTAssertEqual(response?.status, 403)
        XCTAssertEqual(response?.bodyText, "who=ann 403 nope")
        XCTAssertEqual(response?.header("X-Early"), "yes")
        await server.stop()
    }

    func testInMemoryChainHasTheSameOrdering() async throws {
        let loaded = try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "routes": [
          {"handle": [{"handler": "headers", "response": {"set": {"X-A": ["early"]}}}]},
          {"handle": [{"handler": "static_response", "headers": {"X-A": ["late"]}}]}]}}}}}
        """, registry: StandardModules.registry)
        let response = try await respond(loaded.config.apps.http!.servers["s"]!.routes.compile(), Request(method: "GET", rawPath: "/"))
        XCTAssertEqual(response.headers.values("X-A"), ["late"])
    }
}
