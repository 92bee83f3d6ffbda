import Quantum
import QuantumTestSupport
import XCTest

/// `vars`: sets `{http.vars.NAME}` for later handlers, routes and matchers.
final class VarsTests: XCTestCase {
    func testSetsVarsWithPlaceholdersAndJSONScalars() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "vars", "root": "/srv/{http.request.host}", "n": 5, "flag": true, "none": null},
                     {"handler": "static_response", "body": "{http.vars.root}|{http.vars.n}|{http.vars.flag}|[{http.vars.none}]"}]}]
        """)
        let (_, body) = try await send(runtime, request("/", host: "site.example"))
        XCTAssertEqual(body, "/srv/site.example|5|true|[]")
    }

    func testLaterVarsHandlersOverride() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "vars", "v": "first"}]},
         {"match": [{"path": ["/override"]}], "handle": [{"handler": "vars", "v": "second"}]},
         {"handle": [{"handler": "static_response", "body": "{http.vars.v}"}]}]
        """)
        let plain = try await send(runtime, request("/"))
        let overridden = try await send(runtime, request("/override"))
        XCTAssertEqual(plain.body, "first")
        XCTAssertEqual(overridden.body, "second")
    }

    func testVarsDriveTheVarsMatcher() async throws {
        let runtime = try Routes.runtime("""
        [{"match": [{"header": {"X-Beta": []}}], "handle": [{"handler": "vars", "channel": "beta"}]},
         {"match": [{"vars": {"channel": ["beta"]}}], "handle": [{"handler": "static_response", "body": "beta build"}]},
         {"handle": [{"handler": "static_response", "body": "stable build"}]}]
        """)
        let beta = try await send(runtime, request("/", headers: [("X-Beta", "1")]))
        let stable = try await send(runtime, request("/"))
        XCTAssertEqual(beta.body, "beta build")
        XCTAssertEqual(stable.body, "stable build")
    }

    func testOverHTTP() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "vars", "greeting": "hello {http.request.uri.query.name}"}]},
         {"handle": [{"handler": "static_response", "body": "{http.vars.greeting}"}]}]
        """)
        XCTAssertEqual(curl(server.port, "/?name=bob").body, "hello bob")
        await server.stop()
    }
}
