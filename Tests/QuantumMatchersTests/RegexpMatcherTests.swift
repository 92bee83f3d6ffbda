import Quantum
import QuantumTestSupport
import XCTest

/// `path_regexp` and `header_regexp`: regular expressions whose captures become
/// `{http.regexp.NAME.N}` / `{http.regexp.NAME.GROUP}` (and, like Caddy, `{http.regexp.N}`).
final class RegexpMatcherTests: XCTestCase {
    func captures(_ set: MatcherSet, _ request: Request) throws -> [String: String]? {
        var context = Context()
        guard try set.matches(request, context: &context) else { return nil }
        return context.placeholders
    }

    func testPathRegexpMatchesTheDecodedCleanedPath() throws {
        let set = try matcherSet(#"{"path_regexp": {"pattern": "^/users/(\\d+)$"}}"#)
        try check(set, [
            (request("/users/42"), true),
            (request("/users/42/"), false),
            (request("/users/abc"), false),
            (request("//users//42"), true),
            (request("/x/../users/7"), true),
            (request("/users/%34%32"), true),
        ], "^/users/(\\d+)$")
    }

    func testPathRegexpIsCaseSensitive() throws {
        let set = try matcherSet(#"{"path_regexp": {"pattern": "^/Docs/"}}"#)
        XCTAssertTrue(try set.matches(request("/Docs/a")))
        XCTAssertFalse(try set.matches(request("/docs/a")))
        let insensitive = try matcherSet(#"{"path_regexp": {"pattern": "(?i)^/Docs/"}}"#)
        XCTAssertTrue(try insensitive.matches(request("/docs/a")))
    }

    func testNamedCapturesBecomePlaceholders() throws {
        let set = try matcherSet(#"{"path_regexp": {"name": "post", "pattern": "^/blog/(\\d{4})/(?P<slug>[a-z-]+)$"}}"#)
        let got = try XCTUnwrap(try captures(set, request("/blog/2024/hello-world")))
        XCTAssertEqual(got["http.regexp.post.0"], "/blog/2024/hello-world")
        XCTAssertEqual(got["http.regexp.post.1"], "2024")
        XCTAssertEqual(got["http.regexp.post.2"], "hello-world")
        XCTAssertEqual(got["http.regexp.post.slug"], "hello-world")
        // Caddy also sets the unnamed forms (later matchers overwrite them).
        XCTAssertEqual(got["http.regexp.1"], "2024")
        XCTAssertEqual(got["http.regexp.slug"], "hello-world")
    }

    func testUnnamedCaptures() throws {
        let set = try matcherSet(#"{"path_regexp": {"pattern": "^/(a|b)/(.*)$"}}"#)
        let got = try XCTUnwrap(try captures(set, request("/b/rest/of/it")))
        XCTAssertEqual(got["http.regexp.1"], "b")
        XCTAssertEqual(got["http.regexp.2"], "rest/of/it")
    }

    func testOptionalGroupThatDidNotTakePartIsEmpty() throws {
        let set = try matcherSet(#"{"path_regexp": {"name": "o", "pattern": "^/x(/y)?$"}}"#)
        let got = try XCTUnwrap(try captures(set, request("/x")))
        XCTAssertEqual(got["http.regexp.o.1"], "")
    }

    func testNoCapturesOnAMiss() throws {
        let set = try matcherSet(#"{"path_regexp": {"name": "n", "pattern": "^/a/(\\d+)$"}}"#)
        XCTAssertNil(try captures(set, request("/a/x")))
    }

    func testCapturesReachHandlersThroughRoutes() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"path_regexp": {"name": "user", "pattern": "^/u/(?P<id>\\\\d+)$"}}],
          "handle": [{"handler": "static_response", "body": "user {http.regexp.user.id} ({http.regexp.user.1})"}]}]
        """)
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/u/31"]).output, "user 31 (31)")
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/u/x"]).output, "")
        await server.stop()
    }

    func testHeaderRegexp() throws {
        let set = try matcherSet(#"{"header_regexp": {"User-Agent": {"name": "ua", "pattern": "^curl/(\\d+)\\."}}}"#)
        var context = Context()
        XCTAssertTrue(try set.matches(request("/", headers: [("User-Agent", "curl/8.5.0")]), context: &context))
        XCTAssertEqual(context.placeholders["http.regexp.ua.1"], "8")
        try check(set, [
            (request("/", headers: [("user-agent", "curl/7.1")]), true),
            (request("/", headers: [("User-Agent", "Mozilla/5.0")]), false),
            (request("/"), false),
        ], "User-Agent")
    }

    func testHeaderRegexpTriesEachValueOfARepeatedField() throws {
        let set = try matcherSet(#"{"header_regexp": {"X-Tag": {"pattern": "^beta$"}}}"#)
        XCTAssertTrue(try set.matches(request("/", headers: [("X-Tag", "alpha"), ("X-Tag", "beta")])))
        XCTAssertFalse(try set.matches(request("/", headers: [("X-Tag", "alphabeta")])))
    }

    func testHeaderRegexpOnHost() throws {
        let set = try matcherSet(#"{"header_regexp": {"Host": {"name": "sub", "pattern": "^([a-z]+)\\.example\\.com"}}}"#)
        var context = Context()
        XCTAssertTrue(try set.matches(request("/", host: "shop.example.com"), context: &context))
        XCTAssertEqual(context.placeholders["http.regexp.sub.1"], "shop")
        XCTAssertFalse(try set.matches(request("/", host: "example.com")))
    }

    func testAllFieldsMustMatch() throws {
        let set = try matcherSet(#"{"header_regexp": {"X-A": {"pattern": "1"}, "X-B": {"pattern": "2"}}}"#)
        XCTAssertTrue(try set.matches(request("/", headers: [("X-A", "1"), ("X-B", "2")])))
        XCTAssertFalse(try set.matches(request("/", headers: [("X-A", "1")])))
    }

    func testInvalidPatternIsAConfigError() throws {
        let message = try XCTUnwrap(matcherError(#"{"header_regexp": {"X-A": {"pattern": "a("}}}"#))
        XCTAssertTrue(message.hasPrefix(#"apps.http.servers.srv0.routes[0].match[0].header_regexp.X-A.pattern: invalid regular expression "a(""#), message)
    }
}
