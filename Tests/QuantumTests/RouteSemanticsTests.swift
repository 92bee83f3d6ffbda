import Quantum
import QuantumTestSupport
import XCTest

/// Caddy's route model, in memory: order, fall-through chaining, terminal, group, OR of ANDs,
/// the empty 200, error routes and subroutes.
final class RouteSemanticsTests: XCTestCase {
    func testFirstMatchingRouteAnswersInOrder() async throws {
        let chain = try Config.chain(routes: """
        [{"match": [{"path": ["/a"]}], "handle": [{"handler": "static_response", "body": "first"}]},
         {"match": [{"path": ["/a", "/b"]}], "handle": [{"handler": "static_response", "body": "second"}]},
         {"handle": [{"handler": "static_response", "body": "fallback"}]}]
        """)
        let a = try await send(chain, request("/a"))
        let b = try await send(chain, request("/b"))
        let c = try await send(chain, request("/c"))
        XCTAssertEqual(a.body, "first")
        XCTAssertEqual(b.body, "second")
        XCTAssertEqual(c.body, "fallback")
    }

    /// The original Quantum's matcher form loads as Caddy's (with a warning naming Caddy's form).
    func testTheOriginalMatcherFormLoadsAsCaddys() async throws {
        let chain = try Config.chain(routes: """
        [{"match": [{"matcher": "path", "paths": ["/api/*"]}], "handle": [{"handler": "static_response", "body": "api"}]},
         {"handle": [{"handler": "static_response", "body": "other"}]}]
        """)
        let api = try await send(chain, request("/api/users"))
        let other = try await send(chain, request("/about"))
        XCTAssertEqual(api.body, "api")
        XCTAssertEqual(other.body, "other")
        XCTAssertThrowsError(try Config.chain(routes: #"[{"match": [{"matcher": "path", "paths": ["/a"], "hosts": ["x"]}], "handle": []}]"#)) { error in
            XCTAssertTrue("\(error)".contains("takes one field besides \"matcher\"; write Caddy's {\"path\": ...} instead"), "\(error)")
        }
        XCTAssertThrowsError(try Config.chain(routes: #"[{"match": [{"matcher": "pth", "paths": ["/a"]}], "handle": []}]"#)) { error in
            XCTAssertTrue("\(error)".contains("pth"), "\(error)")
        }
    }

    func testMatchingRoutesChainIntoLaterRoutes() async throws {
        // A headers route does not answer: its `next` continues into the following routes.
        let chain = try Config.chain(routes: """
        [{"handle": [{"handler": "headers", "response": {"set": {"X-Route-1": ["yes"]}}}]},
         {"match": [{"path": ["/x"]}], "handle": [{"handler": "headers", "response": {"set": {"X-Route-2": ["yes"]}}}]},
         {"handle": [{"handler": "static_response", "body": "body"}]}]
        """)
        let response = try await respond(chain, request("/x"))
        XCTAssertEqual(response.headers["X-Route-1"], "yes")
        XCTAssertEqual(response.headers["X-Route-2"], "yes")
        let responseBody = try await bodyText(response)
        XCTAssertEqual(responseBody, "body")
        let other = try await respond(chain, request("/y"))
        XCTAssertEqual(other.headers["X-Route-1"], "yes")
        XCTAssertNil(other.headers["X-Route-2"], "a route that does not match contributes nothing")
    }

    func testVarsFromAnEarlierRouteReachLaterRoutes() async throws {
        let chain = try Config.chain(routes: """
        [{"handle": [{"handler": "vars", "who": "early"}]},
         {"match": [{"vars": {"who": ["early"]}}], "handle": [{"handler": "static_response", "body": "saw {http.vars.who}"}]}]
        """)
        let result = try await send(chain, request("/"))
        XCTAssertEqual(result.body, "saw early")
    }

    func testTerminalStopsTheListAfterItsHandlers() async throws {
        let chain = try Config.chain(routes: """
        [{"match": [{"path": ["/stop"]}], "handle": [{"handler": "headers", "response": {"set": {"X-T": ["1"]}}}], "terminal": true},
         {"handle": [{"handler": "static_response", "status_code": 202, "body": "later"}]}]
        """)
        let stopped = try await respond(chain, request("/stop"))
        XCTAssertEqual(stopped.status, 200)
        XCTAssertEqual(stopped.headers["X-T"], "1")
        let stoppedBody = try await bodyText(stopped)
        XCTAssertEqual(stoppedBody, "", "terminal: later routes do not run")
        let other = try await send(chain, request("/go"))
        XCTAssertEqual(other.status, 202, "terminal only applies when its route matches")
        XCTAssertEqual(other.body, "later")
    }

    func testOnlyTheFirstMatchingRouteOfAGroupRuns() async throws {
        let chain = try Config.chain(routes: """
        [{"group": "g", "match": [{"path": ["/a*"]}], "handle": [{"handler": "headers", "response": {"add": {"X-Ran": ["1"]}}}]},
         {"group": "g", "handle": [{"handler": "headers", "response": {"add": {"X-Ran": ["2"]}}}]},
         {"group": "h", "handle": [{"handler": "headers", "response": {"add": {"X-Ran": ["3"]}}}]},
         {"group": "h", "handle": [{"handler": "headers", "response": {"add": {"X-Ran": ["4"]}}}]},
         {"handle": [{"handler": "static_response", "body": "end"}]}]
        """)
        let a = try await respond(chain, request("/abc"))
        XCTAssertEqual(a.headers.values("X-Ran").sorted(), ["1", "3"])
        let b = try await respond(chain, request("/b"))
        XCTAssertEqual(b.headers.values("X-Ran").sorted(), ["2", "3"], "a non-matching route does not claim its group")
    }

    func testGroupsBehaveLikeCaddyfileHandleBlocks() async throws {
        let chain = try Config.chain(routes: """
        [{"group": "handle", "match": [{"path": ["/api/*"]}], "handle": [{"handler": "static_response", "body": "api"}]},
         {"group": "handle", "handle": [{"handler": "static_response", "body": "site"}]}]
        """)
        let api = try await send(chain, request("/api/x"))
        let site = try await send(chain, request("/index.html"))
        XCTAssertEqual(api.body, "api")
        XCTAssertEqual(site.body, "site")
    }

    func testMatchSetsAreOredAndMatchersInASetAnded() async throws {
        let chain = try Config.chain(routes: """
        [{"match": [{"path": ["/a"], "method": ["POST"]}, {"path": ["/b"]}],
          "handle": [{"handler": "static_response", "body": "hit"}]}]
        """)
        let cases: [(String, String, String)] = [
            ("POST", "/a", "hit"),   // first set: both matchers
            ("GET", "/a", ""),       // first set: method fails; second set: path fails
            ("GET", "/b", "hit"),    // second set
            ("POST", "/c", ""),      // neither set
        ]
        for (method, path, expected) in cases {
            let result = try await send(chain, request(path, method: method))
            XCTAssertEqual(result.body, expected, "\(method) \(path)")
        }
    }

    func testRouteWithoutMatchAlwaysMatches() async throws {
        for match in ["", #""match": [], "#] {
            let chain = try Config.chain(routes: #"[{\#(match)"handle": [{"handler": "static_response", "body": "always"}]}]"#)
            let result = try await send(chain, request("/anything?x=1", method: "DELETE", host: "whatever"))
            XCTAssertEqual(result.body, "always", match)
        }
    }

    func testNothingHandledIsAnEmpty200() async throws {
        for routes in ["[]", #"[{"match": [{"path": ["/only"]}], "handle": [{"handler": "static_response", "status_code": 404}]}]"#] {
            let response = try await respond(try Config.chain(routes: routes), request("/"))
            XCTAssertEqual(response.status, 200, routes)
            XCTAssertTrue(response.headers.isEmpty, routes)
            let responseBody = try await bodyText(response)
            XCTAssertEqual(responseBody, "", routes)
        }
    }

    func testErrorRoutesGetErrorPlaceholders() async throws {
        let runtime = try Config.runtime(
            routes: #"[{"handle": [{"handler": "error", "status_code": 403, "error": "no entry to {http.request.uri.path}"}]}]"#,
            errors: #"[{"handle": [{"handler": "static_response", "body": "{http.error.status_code} {http.error.status_text}: {http.error.message}"}]}]"#)
        let result = try await send(runtime, request("/vault"))
        XCTAssertEqual(result.status, 403, "static_response without status_code inherits the error's status")
        XCTAssertEqual(result.body, "403 Forbidden: no entry to /vault")
    }

    func testErrorRoutesSeeTheOriginalRequest() async throws {
        let runtime = try Config.runtime(
            routes: #"[{"handle": [{"handler": "rewrite", "method": "PUT", "uri": "/rewritten?q=1"}, {"handler": "error", "status_code": 500}]}]"#,
            errors: #"[{"handle": [{"handler": "static_response", "body": "{http.request.method} {http.request.uri}"}]}]"#)
        let result = try await send(runtime, request("/original?a=b"))
        XCTAssertEqual(result.status, 500)
        XCTAssertEqual(result.body, "GET /original?a=b")
    }

    func testErrorRoutesCanMatchAndChooseTheirStatus() async throws {
        let runtime = try Config.runtime(
            routes: #"[{"match": [{"path": ["/missing"]}], "handle": [{"handler": "error", "status_code": 404}]}, {"handle": [{"handler": "error"}]}]"#,
            errors: """
            [{"match": [{"vars": {"{http.error.status_code}": ["404"]}}],
              "handle": [{"handler": "static_response", "status_code": 410, "body": "gone"}]}]
            """)
        let missing = try await send(runtime, request("/missing"))
        XCTAssertEqual(missing.status, 410)
        XCTAssertEqual(missing.body, "gone")
        let broken = try await send(runtime, request("/other"))
        XCTAssertEqual(broken.status, 500, "error routes that handle nothing leave the error's status")
        XCTAssertEqual(broken.body, "")
    }

    func testErrorWithoutErrorRoutesIsABareStatus() async throws {
        let runtime = try Config.runtime(routes: #"[{"handle": [{"handler": "error", "status_code": 429, "error": "slow down"}]}]"#)
        let result = try await send(runtime, request("/"))
        XCTAssertEqual(result.status, 429)
        XCTAssertEqual(result.body, "", "the message is not sent to the client")
    }

    func testAnErrorInTheErrorRoutesIsABareStatus() async throws {
        let runtime = try Config.runtime(routes: #"[{"handle": [{"handler": "error", "status_code": 404}]}]"#,
                                         errors: #"[{"handle": [{"handler": "error", "status_code": 502}]}]"#)
        let result = try await send(runtime, request("/"))
        XCTAssertEqual(result.status, 502)
        XCTAssertEqual(result.body, "")
    }

    func testSubrouteInlinesAndFallsThroughToOuterRoutes() async throws {
        let chain = try Config.chain(routes: """
        [{"match": [{"path": ["/app/*"]}], "handle": [{"handler": "subroute", "routes": [
            {"handle": [{"handler": "headers", "response": {"set": {"X-Sub": ["1"]}}}]},
            {"match": [{"path": ["/app/inner"]}], "handle": [{"handler": "static_response", "body": "inner"}]}]}]},
         {"handle": [{"handler": "static_response", "body": "outer"}]}]
        """)
        let inner = try await respond(chain, request("/app/inner"))
        let innerBody = try await bodyText(inner)
        XCTAssertEqual(innerBody, "inner")
        XCTAssertEqual(inner.headers["X-Sub"], "1")
        let fell = try await respond(chain, request("/app/other"))
        let fellBody = try await bodyText(fell)
        XCTAssertEqual(fellBody, "outer", "nothing in the subroute answered: the outer routes continue")
        XCTAssertEqual(fell.headers["X-Sub"], "1", "the subroute's middleware wraps the outer routes that follow")
    }

    func testTerminalInsideASubrouteEndsTheChainThere() async throws {
        let chain = try Config.chain(routes: """
        [{"handle": [{"handler": "subroute", "routes": [
            {"handle": [{"handler": "vars", "x": "1"}], "terminal": true},
            {"handle": [{"handler": "static_response", "body": "inner"}]}]}]},
         {"handle": [{"handler": "static_response", "body": "outer"}]}]
        """)
        let result = try await send(chain, request("/"))
        XCTAssertEqual(result.body, "", "terminal replaces the rest (inner and outer routes) with the empty handler, as in Caddy")
    }

    func testSubrouteErrorsHandleInnerErrors() async throws {
        let runtime = try Config.runtime(routes: """
        [{"handle": [{"handler": "subroute",
           "routes": [{"handle": [{"handler": "error", "status_code": 404, "error": "inner"}]}],
           "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "sub caught {http.error.status_code} {http.error.message}"}]}]}}]}]
        """, errors: #"[{"handle": [{"handler": "static_response", "body": "server caught"}]}]"#)
        let result = try await send(runtime, request("/"))
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(result.body, "sub caught 404 inner")
    }

    func testSubrouteErrorRoutesThatHandleNothingDoNotFallIntoOuterRoutes() async throws {
        // Caddy compiles subroute error routes with an empty tail that writes the error status.
        let runtime = try Config.runtime(routes: """
        [{"match": [{"path": ["/sub"]}], "handle": [{"handler": "subroute",
           "routes": [{"handle": [{"handler": "error", "status_code": 418}]}],
           "errors": {"routes": [{"match": [{"path": ["/never"]}], "handle": [{"handler": "static_response", "body": "inner-err"}]}]}}]},
         {"handle": [{"handler": "static_response", "body": "outer"}]}]
        """)
        let result = try await send(runtime, request("/sub"))
        XCTAssertEqual(result.status, 418)
        XCTAssertEqual(result.body, "")
    }

    func testSubrouteWithoutErrorsPassesErrorsOut() async throws {
        let runtime = try Config.runtime(
            routes: #"[{"handle": [{"handler": "subroute", "routes": [{"handle": [{"handler": "error", "status_code": 401}]}]}]}]"#,
            errors: #"[{"handle": [{"handler": "static_response", "body": "server caught {http.error.status_code}"}]}]"#)
        let result = try await send(runtime, request("/"))
        XCTAssertEqual(result.status, 401)
        XCTAssertEqual(result.body, "server caught 401")
    }
}
