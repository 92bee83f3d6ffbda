import Quantum
import QuantumTestSupport
import XCTest

/// `invoke` and a server's `named_routes`: the named route runs where it is invoked, then the
/// chain goes on; a name no route has is refused at load.
final class InvokeTests: XCTestCase {
    func testNamedRoutesRunWhereInvokedAndFallThrough() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "invoke", "name": "tag"}, {"handler": "static_response", "body": "tagged {http.vars.tag}"}]}]
        """, serverFields: """
        "named_routes": {
            "tag": {"handle": [{"handler": "subroute", "routes": [
                {"match": [{"path": ["/special"]}], "handle": [{"handler": "invoke", "name": "special"}]},
                {"handle": [{"handler": "vars", "tag": "plain"}]}]}]},
            "special": {"handle": [{"handler": "static_response", "body": "special route", "status_code": 202}]}
        }
        """)
        XCTAssertEqual(curl(server.port, "/").body, "tagged plain", "the named route set a var, then the chain went on")
        let special = curl(server.port, "/special")
        XCTAssertEqual(special.status, 202, "a named route may invoke another")
        XCTAssertEqual(special.body, "special route")
        await server.stop()
    }

    func testAnUndefinedNameIsAConfigError() {
        XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "invoke", "name": "nope"}]}]"#),
                       #"apps.http.servers.srv0.routes[0].handle[0].name: cannot invoke named route "nope", which is not defined in this server's named_routes"#)
    }
}

/// Named routes that invoke each other forever end with a 500, not a crashed process.
final class InvokeDepthTests: XCTestCase {
    func testACycleIsCutShort() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "invoke", "name": "loop"}]}]"#, serverFields: """
        "named_routes": {"loop": {"handle": [{"handler": "vars", "n": "x"}, {"handler": "invoke", "name": "loop"}]}}
        """)
        XCTAssertEqual(curl(server.port, "/").status, 500)
        XCTAssertEqual(curl(server.port, "/again").status, 500, "and the server still answers")
        await server.stop()
    }

    func testEachServerHasItsOwnNamedRoutes() async throws {
        let json = """
        {"apps": {"http": {"servers": {
          "a": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "invoke", "name": "r"}]}],
                "named_routes": {"r": {"handle": [{"handler": "static_response", "body": "from a"}]}}},
          "b": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "invoke", "name": "r"}]}],
                "named_routes": {"r": {"handle": [{"handler": "static_response", "body": "from b"}]}}}}}}}
        """
        let loaded = try ConfigLoader.load(json: json, registry: StandardModules.registry)
        defer { loaded.context.cleanup() }
        XCTAssertNotNil(loaded.config.apps.http?.servers["a"]?.namedRoutes?["r"])
        XCTAssertNotNil(loaded.config.apps.http?.servers["b"]?.namedRoutes?["r"])
        XCTAssertFalse(loaded.config.apps.http?.servers["a"]?.namedRoutes === loaded.config.apps.http?.servers["b"]?.namedRoutes)
    }
}
