import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `test_counted`: counts its calls on `Board` under `key` and answers `matches`.
private struct CountedMatcher: MatcherModule {
    static let moduleID = "http.matchers.test_counted"
    var key: String
    var matches = true

    enum CodingKeys: String, CodingKey, CaseIterable { case key, matches }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        matches = try c.decodeIfPresent(Bool.self, forKey: .matches) ?? true
    }

    func matches(_ request: Request, context: inout Context) throws -> Bool {
        Board.shared.add(key, 1)
        return matches
    }
}

/// One compiled route program, run inline and then asynchronously from where the inline run
/// stopped: every matcher runs once per request, whichever handlers it meets (issue 18 §2).
final class RouteProgramTests: XCTestCase {
    private var registry: ModuleRegistry {
        var r = coreTestRegistry()
        r.register(CountedMatcher.self)
        return r
    }

    /// A fresh key per test and route, so counts never mix.
    private func key(_ name: String) -> String { "\(name)-\(UUID().uuidString)" }

    /// Sends `count` requests for `path` over HTTP/1.1 on one connection and over h2c (curl),
    /// checking each answer with `check`; returns how many requests went out.
    private func exercise(_ server: TestServer, _ path: String, count: Int = 3,
                          check: (HTTPTestResponse) -> Void) throws -> Int {
        let client = try RawClient(port: server.port)
        for _ in 0..<count {
            client.send("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n")
            guard let response = client.readResponse() else { XCTFail("no answer over HTTP/1.1"); return 0 }
            check(response)
        }
        let h2 = runProcess("curl", ["-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
                                     "http://127.0.0.1:\(server.port)\(path)"])
        XCTAssertTrue(h2.output.hasSuffix(" 2"), "h2c: \(h2.output)")
        return count + 1
    }

    private static let h2c = #""protocols": ["h1", "h2c"]"#

    func testAnInlineAnswerRunsEachMatcherOnce() async throws {
        let skipped = key("skipped"), taken = key("taken")
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(skipped)", "matches": false}}], "handle": [{"handler": "static_response", "body": "no"}]},
         {"match": [{"test_counted": {"key": "\(taken)"}}], "handle": [{"handler": "static_response", "body": "yes"}]}]
        """, serverFields: Self.h2c, registry: registry) { server in
            let n = try exercise(server, "/") { XCTAssertEqual($0.bodyText, "yes") }
            XCTAssertEqual(Board.shared.value(skipped), n)
            XCTAssertEqual(Board.shared.value(taken), n)
        }
    }

    func testAnAsyncHandlerResumesAfterTheMatchersRan() async throws {
        let skipped = key("skipped"), taken = key("taken")
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(skipped)", "matches": false}}], "handle": [{"handler": "static_response", "body": "no"}]},
         {"match": [{"test_counted": {"key": "\(taken)"}}],
          "handle": [{"handler": "headers", "response": {"set": {"X-Wrapped": ["yes"]}}}, {"handler": "test_sleep", "millis": 1, "body": "slept"}]}]
        """, serverFields: Self.h2c, registry: registry) { server in
            let n = try exercise(server, "/") { response in
                XCTAssertEqual(response.bodyText, "slept")
                XCTAssertEqual(response.header("X-Wrapped"), "yes", "the handler before the suspension still edits the answer")
            }
            XCTAssertEqual(Board.shared.value(skipped), n)
            XCTAssertEqual(Board.shared.value(taken), n)
        }
    }

    func testSubroutesResumeInsideTheSubroute() async throws {
        let outer = key("outer"), inner = key("inner"), after = key("after")
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(outer)"}}],
          "handle": [{"handler": "subroute", "routes": [
              {"match": [{"test_counted": {"key": "\(inner)"}}], "handle": [{"handler": "vars", "v": "1"}]},
              {"handle": [{"handler": "test_sleep", "millis": 1, "body": "inner"}]}]}]},
         {"match": [{"test_counted": {"key": "\(after)"}}], "handle": [{"handler": "static_response", "body": "after"}]}]
        """, serverFields: Self.h2c, registry: registry) { server in
            let n = try exercise(server, "/") { XCTAssertEqual($0.bodyText, "inner") }
            XCTAssertEqual(Board.shared.value(outer), n)
            XCTAssertEqual(Board.shared.value(inner), n)
            XCTAssertEqual(Board.shared.value(after), 0, "the subroute answered: nothing after it ran")
        }
    }

    func testAFileLookupOffTheLoopResumesInTheFileServer() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("route-program-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("file body".utf8).write(to: root.appendingPathComponent("a.txt"))
        let taken = key("taken")
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(taken)"}}], "handle": [{"handler": "file_server", "root": "\(root.path)"}]}]
        """, serverFields: Self.h2c, registry: registry) { server in
            // Each new path misses the cache once: that request suspends for the lookup.
            var n = 0
            for name in ["a.txt", "missing-1", "missing-2"] {
                n += try exercise(server, "/" + name, count: 1) { response in
                    XCTAssertEqual(response.status, name == "a.txt" ? 200 : 404)
                }
            }
            XCTAssertEqual(Board.shared.value(taken), n)
        }
    }

    func testAProxiedRequestHandedBackDoesNotRouteAgain() async throws {
        let taken = key("taken")
        let closedPort = freePort()
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(taken)"}}], "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:\(closedPort)"}]}]}]
        """, serverFields: Self.h2c, registry: registry) { server in
            let n = try exercise(server, "/") { XCTAssertEqual($0.status, 502) }
            XCTAssertEqual(Board.shared.value(taken), n)
        }
    }

    func testADeferredProxyAnswerRunsTheMatchersOnce() async throws {
        let taken = key("taken")
        try await withServer(routes: #"[{"handle": [{"handler": "static_response", "body": "upstream"}]}]"#) { upstream in
            try await withServer(routes: """
            [{"match": [{"test_counted": {"key": "\(taken)"}}], "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:\(upstream.port)"}]}]}]
            """, serverFields: Self.h2c, registry: registry) { server in
                // The first request dials (async); the next ones go out on the pooled connection
                // from the read path and are answered from the loop.
                let n = try exercise(server, "/", count: 5) { XCTAssertEqual($0.bodyText, "upstream") }
                XCTAssertEqual(Board.shared.value(taken), n)
            }
        }
    }

    func testErrorsAfterASuspensionReachTheErrorRoutesWithTheirVars() async throws {
        let taken = key("taken")
        let closedPort = freePort()
        try await withServer(routes: """
        [{"match": [{"test_counted": {"key": "\(taken)"}}],
          "handle": [{"handler": "vars", "where": "route"}, {"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:\(closedPort)"}]}]}]
        """, serverFields: Self.h2c + #", "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "{http.error.status_code} {http.vars.where}"}]}]}"#,
        registry: registry) { server in
            let n = try exercise(server, "/") { XCTAssertEqual($0.bodyText, "502 route") }
            XCTAssertEqual(Board.shared.value(taken), n)
        }
    }
}
