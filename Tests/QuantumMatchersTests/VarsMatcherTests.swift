import Quantum
import QuantumTestSupport
import XCTest

/// `vars`: a var (plain key) or placeholder (`{...}` key) equal to one of the values.
final class VarsMatcherTests: XCTestCase {
    func context(_ vars: [String: String]) -> Context {
        var c = Context()
        for (k, v) in vars { c.vars[k] = v }
        return c
    }

    func matches(_ set: MatcherSet, _ request: Request, vars: [String: String]) throws -> Bool {
        var c = context(vars)
        return try set.matches(request, context: &c)
    }

    func testVarNames() throws {
        let set = try matcherSet(#"{"vars": {"tier": ["gold", "silver"]}}"#)
        XCTAssertTrue(try matches(set, request("/"), vars: ["tier": "gold"]))
        XCTAssertTrue(try matches(set, request("/"), vars: ["tier": "silver"]))
        XCTAssertFalse(try matches(set, request("/"), vars: ["tier": "bronze"]))
        XCTAssertFalse(try matches(set, request("/"), vars: [:]))
    }

    func testUnsetVarEqualsTheEmptyString() throws {
        let set = try matcherSet(#"{"vars": {"missing": [""]}}"#)
        XCTAssertTrue(try matches(set, request("/"), vars: [:]))
    }

    func testPlaceholderKeys() throws {
        let set = try matcherSet(#"{"vars": {"{http.request.uri.path}": ["/x", "/y"]}}"#)
        XCTAssertTrue(try set.matches(request("/x")))
        XCTAssertTrue(try set.matches(request("/y")))
        XCTAssertFalse(try set.matches(request("/z")))
    }

    func testPlaceholderValues() throws {
        let set = try matcherSet(#"{"vars": {"owner": ["{http.request.header.X-User}"]}}"#)
        XCTAssertTrue(try matches(set, request("/", headers: [("X-User", "ann")]), vars: ["owner": "ann"]))
        XCTAssertFalse(try matches(set, request("/", headers: [("X-User", "bob")]), vars: ["owner": "ann"]))
    }

    func testKeysAreOredLikeCaddy() throws {
        // Caddy's vars matcher returns true as soon as any key has one of its values.
        let set = try matcherSet(#"{"vars": {"a": ["1"], "b": ["2"]}}"#)
        XCTAssertTrue(try matches(set, request("/"), vars: ["a": "1"]))
        XCTAssertTrue(try matches(set, request("/"), vars: ["b": "2"]))
        XCTAssertFalse(try matches(set, request("/"), vars: ["a": "2", "b": "1"]))
    }

    func testVarsSetByTheVarsHandlerOverHTTP() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"path": ["/vip/*"]}], "handle": [{"handler": "vars", "tier": "gold"}]},
         {"match": [{"vars": {"tier": ["gold"]}}], "handle": [{"handler": "static_response", "body": "gold lounge"}]},
         {"handle": [{"handler": "static_response", "body": "lobby"}]}]
        """)
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/vip/x"]).output, "gold lounge")
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/x"]).output, "lobby")
        await server.stop()
    }
}
