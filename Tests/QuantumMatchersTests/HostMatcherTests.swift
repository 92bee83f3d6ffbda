import Quantum
import QuantumTestSupport
import XCTest

/// `host`: case-insensitive, port ignored, `*` is exactly one label, placeholders allowed.
final class HostMatcherTests: XCTestCase {
    func testTable() throws {
        let table: [([String], String, Bool)] = [
            (["example.com"], "example.com", true),
            (["example.com"], "EXAMPLE.com", true),
            (["Example.COM"], "example.com", true),
            (["example.com"], "example.com:8080", true),
            (["example.com"], "www.example.com", false),
            (["example.com"], "example.org", false),
            (["example.com"], "example.com.", false),
            (["a.example", "b.example"], "b.example", true),
            (["*.example.com"], "foo.example.com", true),
            (["*.example.com"], "FOO.Example.com:443", true),
            (["*.example.com"], "example.com", false),
            (["*.example.com"], "foo.bar.example.com", false),
            (["foo.*.com"], "foo.example.com", true),
            (["*.*.example.com"], "a.b.example.com", true),
            (["*"], "localhost", true),
            (["*"], "example.com", false),
            (["127.0.0.1"], "127.0.0.1:9000", true),
            (["::1"], "[::1]:8080", true),
            (["::1"], "[::1]", true),
            (["localhost"], "", false),
        ]
        for (hosts, host, expected) in table {
            let json = "[" + hosts.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            let set = try matcherSet(#"{"host": \#(json)}"#)
            XCTAssertEqual(try set.matches(request("/", host: host)), expected, "\(hosts) vs \(host)")
        }
    }

    func testPlaceholdersRenderPerRequestAndCompareCaseInsensitively() throws {
        let set = try matcherSet(#"{"host": ["{http.request.header.X-Site}"]}"#)
        XCTAssertTrue(try set.matches(request("/", host: "a.example", headers: [("X-Site", "a.example")])))
        XCTAssertTrue(try set.matches(request("/", host: "a.example", headers: [("X-Site", "A.Example")])))
        XCTAssertFalse(try set.matches(request("/", host: "a.example", headers: [("X-Site", "b.example")])))
    }

    func testPlaceholderMayRenderAWildcard() throws {
        let set = try matcherSet(#"{"host": ["*.{http.request.header.X-Zone}"]}"#)
        XCTAssertTrue(try set.matches(request("/", host: "www.example.com", headers: [("X-Zone", "example.com")])))
        XCTAssertFalse(try set.matches(request("/", host: "example.com", headers: [("X-Zone", "example.com")])))
    }

    func testDuplicatesAreAConfigError() {
        XCTAssertEqual(matcherError(#"{"host": ["a.example", "A.EXAMPLE"]}"#),
                       #"apps.http.servers.srv0.routes[0].match[0].host: duplicate host "A.EXAMPLE""#)
    }

    func testLargeListsStillMatch() throws {
        let hosts = (0..<500).map { "\"site\($0).example\"" }.joined(separator: ", ")
        let set = try matcherSet(#"{"host": [\#(hosts), "*.wild.example"]}"#)
        XCTAssertTrue(try set.matches(request("/", host: "site377.example")))
        XCTAssertTrue(try set.matches(request("/", host: "x.wild.example")))
        XCTAssertFalse(try set.matches(request("/", host: "site500.example")))
    }
}
