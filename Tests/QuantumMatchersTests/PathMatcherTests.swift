import Quantum
import QuantumTestSupport
import XCTest

/// `path`: exact, prefix, suffix, substring and glob patterns on the cleaned, decoded path,
/// case-insensitive. Every row below was checked against Caddy (`caddy run`, curl --path-as-is).
final class PathMatcherTests: XCTestCase {
    // (pattern, request path as sent, matches)
    static let table: [(String, String, Bool)] = [
        // exact
        ("/", "/", true),
        ("/foo/bar", "/foo/bar", true),
        ("/foo/bar", "/foo/bar/", false),
        ("/foo/bar/", "/foo/bar", false),
        ("/foo/bar/", "/foo/bar/", true),
        ("/foo", "/foo/bar", false),
        ("/foo", "/foobar", false),
        // case-insensitive, both ways
        ("/foo", "/FOO", true),
        ("/foo/bar.txt", "/foo/BAR.txt", true),
        ("/API/*", "/api/x", true),
        ("*.PHP", "/INDEX.php", true),
        ("/café", "/CAF%C3%89", true),
        // prefix: `/foo*` matches /foobar, `/foo/*` does not match /foo
        ("/foo*", "/foo", true),
        ("/foo*", "/foobar", true),
        ("/foo*", "/FOOOO", true),
        ("/foo*", "/foo/bar/baz", true),
        ("/foo/*", "/foo", false),
        ("/foo/*", "/foobar", false),
        ("/foo/*", "/foo/", true),
        ("/foo/*", "/foo/bar/baz", true),
        ("/api/*", "/api", false),
        ("/api/*", "/api/v1/x", true),
        // suffix
        ("*.php", "/index.PHP", true),
        ("*.ext", "/foo/bar.ext", true),
        ("*.ext", "/foo/bar.ext/x", false),
        // substring
        ("*substring*", "/foo/substring/bar.txt", true),
        ("*/x/*", "/y/x/z", true),
        ("*/x/*", "/y/xx/z", false),
        ("**", "/anything/at/all", true),
        ("*", "/", true),
        // middle globs: `*` and `?` stay within one segment
        ("/foo/*/baz", "/foo/bar/baz", true),
        ("/a/*/b", "/a/q/b", true),
        ("/a/*/b", "/a/q/r/b", false),
        ("/x?", "/xy", true),
        ("/x?", "/xyz", false),
        ("/[ab]c", "/ac", true),
        ("/[ab]c", "/cc", false),
        ("/x?*", "/xyz", false), // one trailing `*` makes a literal prefix match on "/x?"
        // the path is cleaned: dot segments resolved, slashes merged
        ("/b", "/a/../b", true),
        ("/a/../b", "/a/../b", false),
        ("/foo", "//foo", true),
        ("/foo*", "//foo/bar", true),
        ("/foo/bar", "/foo//bar", true),
        ("/foo/bar", "/foo///bar", true),
        // unless the pattern has `//`
        ("//foo", "/foo", false),
        ("//foo", "//foo", true),
        ("/foo//bar", "/foo//bar", true),
        ("/foo//bar", "/foo/bar", false),
        ("/foo//*", "/foo//bar", true),
        ("/foo/*//bar", "/foo///bar", true),
        // matched decoded: an escaped slash is a slash
        ("/foo/bar", "/foo/%2Fbar", true),
        ("/foo//bar", "/foo/%2Fbar", true),
        ("/foo/bar/baz", "/foo%2Fbar/baz", true),
        ("/foo*", "/%2F/foo", true),
        ("/foo", "/%2F/foo", true),
        ("/a b", "/a%20b", true),
        // escapes in the pattern compare escaped
        ("/a%20b", "/a%20b", true),
        ("/foo%2fbar/baz", "/foo%2Fbar/baz", true),
        ("/foo%2fbar/baz", "/foo/bar/baz", false),
        ("/foo/%2F*", "/foo/%2Fbar", true),
        ("/foo/%2F*", "/foo//bar", false),
        ("/%25@.txt", "/%25@.txt", true),
        ("/%25@.txt", "/%25%40.txt", true),
        ("/%25%40.txt", "/%25%40.txt", true),
        ("/%25%40.txt", "/%25@.txt", false),
        ("/%40*", "/%40x", true),
        ("/%40*", "/@x", false),
        // `%*` is a wildcard span that is not decoded
        ("/bands/%*", "/bands/AC%2FDC", true),
        ("/bands/%*", "/bands/AC/DC", false),
        ("/bands/%*/%*", "/bands/AC%2FDC/T.N.T", true),
        ("/foo/%*//bar", "/foo///bar", true),
        ("/foo/%*//bar", "/foo//%2Fbar", true),
    ]

    func testCaddyTable() throws {
        for (pattern, path, expected) in Self.table {
            let set = try matcherSet(#"{"path": ["\#(pattern)"]}"#)
            XCTAssertEqual(try set.matches(request(path)), expected, "pattern \(pattern) vs \(path)")
        }
    }

    func testAnyPatternOfTheListMatches() throws {
        let set = try matcherSet(#"{"path": ["/a", "*.css", "/img/*"]}"#)
        try check(set, [(request("/a"), true), (request("/x/y.css"), true), (request("/img/1.png"), true), (request("/b"), false)], "list")
    }

    func testQueryIsNotPartOfThePath() throws {
        let set = try matcherSet(#"{"path": ["/search"]}"#)
        XCTAssertTrue(try set.matches(request("/search?q=/etc/passwd")))
    }

    func testPlaceholdersInPatterns() throws {
        let set = try matcherSet(#"{"path": ["/{http.request.header.X-Tenant}/*"]}"#)
        XCTAssertTrue(try set.matches(request("/acme/index.html", headers: [("X-Tenant", "acme")])))
        XCTAssertTrue(try set.matches(request("/ACME/index.html", headers: [("X-Tenant", "Acme")])))
        XCTAssertFalse(try set.matches(request("/other/index.html", headers: [("X-Tenant", "acme")])))
    }
}
