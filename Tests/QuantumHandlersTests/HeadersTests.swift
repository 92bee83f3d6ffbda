import Quantum
import QuantumTestSupport
import XCTest

/// `headers`: request and response header operations (set, add, delete with wildcards, replace,
/// search_regexp), `require`, `deferred`, and Host changes.
final class HeadersTests: XCTestCase {
    /// Routes that run `headers` with the request ops, then echo the request headers named.
    func echoRequest(_ ops: String, _ names: [String], _ request: Request) async throws -> String {
        let body = names.map { "\($0)=[{http.request.header.\($0)}]" }.joined(separator: " ")
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "headers", "request": \#(ops)}, {"handler": "static_response", "body": "\#(body)"}]}]"#)
        return try await send(runtime, request).body
    }

    func testRequestSetAddDelete() async throws {
        let body = try await echoRequest(#"{"set": {"X-Set": ["new"]}, "add": {"X-Add": ["2"]}, "delete": ["X-Gone"]}"#,
                                         ["X-Set", "X-Add", "X-Gone"],
                                         request("/", headers: [("X-Set", "old"), ("X-Set", "older"), ("X-Add", "1"), ("X-Gone", "bye")]))
        XCTAssertEqual(body, "X-Set=[new] X-Add=[1,2] X-Gone=[]")
    }

    func testSetWithSeveralValuesJoinsThemLikeCaddy() async throws {
        let runtime = try Routes.runtime(#"[{"handle": [{"handler": "headers", "response": {"set": {"X-M": ["a", "b"]}}}, {"handler": "static_response"}]}]"#)
        let (response, _) = try await send(runtime, request("/"))
        XCTAssertEqual(response.headers.values("X-M"), ["a,b"])
    }

    func testDeleteWildcards() async throws {
        let headers = [("X-Debug-Id", "1"), ("X-Debug-Trace", "2"), ("Api-Secret", "3"), ("X-Internal-Token", "4"), ("Accept", "5")]
        let body = try await echoRequest(#"{"delete": ["x-debug-*", "*-Secret", "*internal*"]}"#,
                                         ["X-Debug-Id", "X-Debug-Trace", "Api-Secret", "X-Internal-Token", "Accept"],
                                         request("/", headers: headers))
        XCTAssertEqual(body, "X-Debug-Id=[] X-Debug-Trace=[] Api-Secret=[] X-Internal-Token=[] Accept=[5]")
    }

    func testDeleteEverythingHappensBeforeAddAndSet() async throws {
        // Caddy deletes all fields first when the list has "*", so fields set by the same ops stay.
        let body = try await echoRequest(#"{"delete": ["*"], "set": {"X-Kept": ["yes"]}, "add": {"X-Added": ["too"]}}"#,
                                         ["X-Kept", "X-Added", "User-Agent"],
                                         request("/", headers: [("User-Agent", "curl"), ("X-Kept", "old")]))
        XCTAssertEqual(body, "X-Kept=[yes] X-Added=[too] User-Agent=[]")
    }

    func testReplaceWithSearchAndRegexp() async throws {
        let body = try await echoRequest(#"""
        {"replace": {"X-Url": [{"search": "http:", "replace": "https:"}],
                     "X-Version": [{"search_regexp": "v(\\d+)", "replace": "version-$1"}],
                     "*": [{"search": "secret", "replace": "***"}]}}
        """#, ["X-Url", "X-Version", "X-Other"],
            request("/", headers: [("X-Url", "http://a http://b"), ("X-Version", "v1 and v22"), ("X-Other", "my secret")]))
        XCTAssertEqual(body, "X-Url=[https://a https://b] X-Version=[version-1 and version-22] X-Other=[my ***]")
    }

    func testValuesUsePlaceholdersAndKeepUnknownOnes() async throws {
        let body = try await echoRequest(#"{"set": {"X-From": ["{http.request.uri.path} {nope}"]}}"#, ["X-From"], request("/p"))
        XCTAssertEqual(body, "X-From=[/p {nope}]")
    }

    func testSettingHostChangesTheRequestHost() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "headers", "request": {"set": {"Host": ["internal.example:9000"]}}}]},
         {"match": [{"host": ["internal.example"]}], "handle": [{"handler": "static_response", "body": "{http.request.host} {http.request.port}"}]}]
        """)
        let (_, body) = try await send(runtime, request("/", host: "public.example"))
        XCTAssertEqual(body, "internal.example 9000")
    }

    /// Deferred, so the ops see the Location the later handler sets (immediate ops would not).
    func testResponseOps() async throws {
        let runtime = try Routes.runtime(#"""
        [{"handle": [{"handler": "headers", "response": {"set": {"Cache-Control": ["no-store"]}, "add": {"X-Served-By": ["{http.request.host}"]},
                                                         "replace": {"Location": [{"search": "http://", "replace": "https://"}]}, "deferred": true}},
                     {"handler": "static_response", "status_code": 302, "headers": {"Location": ["http://example.com/next"]}}]}]
        """#)
        let (response, _) = try await send(runtime, request("/", host: "a.example"))
        XCTAssertEqual(response.headers["Cache-Control"], "no-store")
        XCTAssertEqual(response.headers["X-Served-By"], "a.example")
        XCTAssertEqual(response.headers["Location"], "https://example.com/next")
    }

    func testDeferredDeleteRemovesFieldsSetLater() async throws {
        let runtime = try Routes.runtime("""
        [{"handle": [{"handler": "headers", "response": {"delete": ["X-Powered-By", "Server-*"], "deferred": true}},
                     {"handler": "static_response", "headers": {"X-Powered-By": ["php"], "Server-Timing": ["db;dur=5"], "X-Keep": ["1"]}}]}]
        """)
        let (response, _) = try await send(runtime, request("/"))
        XCTAssertNil(response.headers["X-Powered-By"])
        XCTAssertNil(response.headers["Server-Timing"])
        XCTAssertEqual(response.headers["X-Keep"], "1")
    }

    func testRequireAppliesOnlyToMatchingResponses() async throws {
        let runtime = try Routes.runtime(#"""
        [{"handle": [{"handler": "headers", "response": {"set": {"Cache-Control": ["max-age=3600"]},
                       "require": {"status_code": [2], "headers": {"Content-Type": ["text/*"]}}}},
                     {"handler": "static_response", "status_code": "{http.request.uri.query.s}", "headers": {"Content-Type": ["{http.request.uri.query.t}"]}}]}]
        """#)
        let cases: [(String, String?)] = [
            ("/?s=200&t=text/css", "max-age=3600"),
            ("/?s=204&t=text/plain", "max-age=3600"),
            ("/?s=404&t=text/html", nil),
            ("/?s=200&t=image/png", nil),
        ]
        for (target, expected) in cases {
            let (response, _) = try await send(runtime, request(target))
            XCTAssertEqual(response.headers["Cache-Control"], expected, target)
        }
    }

    func testRequireWithAbsentAndPresentHeaders() async throws {
        let runtime = try Routes.runtime(#"""
        [{"handle": [{"handler": "headers", "response": {"set": {"X-Tagged": ["yes"]}, "require": {"headers": {"X-Skip": null, "ETag": []}}}},
                     {"handler": "static_response", "headers": {"ETag": ["{http.request.uri.query.etag}"], "X-Skip": ["{http.request.uri.query.skip}"]}}]}]
        """#)
        let tagged = try await send(runtime, request("/?etag=abc"))
        XCTAssertEqual(tagged.response.headers["X-Tagged"], nil, "an empty X-Skip value still counts as present")
        let runtime2 = try Routes.runtime(#"""
        [{"handle": [{"handler": "headers", "response": {"set": {"X-Tagged": ["yes"]}, "require": {"headers": {"X-Skip": null, "ETag": []}}}},
                     {"handler": "static_response", "headers": {"ETag": ["\"v1\""]}}]}]
        """#)
        let untagged = try await send(runtime2, request("/"))
        XCTAssertEqual(untagged.response.headers["X-Tagged"], "yes")
    }

    func testBadReplacementIsAConfigError() {
        XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "headers", "request": {"replace": {"X": [{"replace": "y"}]}}}]}]"#),
                       #"apps.http.servers.srv0.routes[0].handle[0].request.replace.X[0]: a replacement needs "search" or "search_regexp""#)
        XCTAssertEqual(Routes.loadError(#"[{"handle": [{"handler": "headers", "response": {"sett": {}}}]}]"#),
                       #"apps.http.servers.srv0.routes[0].handle[0].response: unknown field "sett"; did you mean "set"?"#)
    }

    func testOverHTTP() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "headers",
            "request": {"set": {"X-Seen": ["{http.request.header.User-Agent}"]}, "delete": ["Accept"]},
            "response": {"set": {"X-Frame-Options": ["DENY"]}, "add": {"Vary": ["Origin"]}}}]},
         {"handle": [{"handler": "static_response", "body": "seen=[{http.request.header.X-Seen}] accept=[{http.request.header.Accept}]"}]}]
        """)
        let result = curl(server.port, "/", ["-A", "probe/1", "-H", "Accept: text/html"])
        XCTAssertEqual(result.status, 200)
        XCTAssertEqual(result.body, "seen=[probe/1] accept=[]")
        XCTAssertEqual(result.header("X-Frame-Options"), "DENY")
        XCTAssertEqual(result.values("Vary"), ["Origin"])
        await server.stop()
    }
}
