import Quantum
import QuantumTestSupport
import XCTest

/// `header`: per field, one of the values (with `*` wildcards); `null` = must be absent,
/// `[]` = must be present; fields AND'ed; `Host` supported.
final class HeaderMatcherTests: XCTestCase {
    func testValuesAndWildcards() throws {
        let table: [(String, [(String, String)], Bool)] = [
            // exact values, OR'ed
            (#"{"X-Env": ["prod", "staging"]}"#, [("X-Env", "prod")], true),
            (#"{"X-Env": ["prod", "staging"]}"#, [("X-Env", "staging")], true),
            (#"{"X-Env": ["prod", "staging"]}"#, [("X-Env", "dev")], false),
            (#"{"X-Env": ["prod"]}"#, [("X-Env", "Prod")], false),
            (#"{"X-Env": ["prod"]}"#, [], false),
            // field names are case-insensitive
            (#"{"x-env": ["prod"]}"#, [("X-ENV", "prod")], true),
            // wildcards: *, prefix*, *suffix, *substring*
            (#"{"Accept": ["*"]}"#, [("Accept", "anything")], true),
            (#"{"Accept": ["text/*"]}"#, [("Accept", "text/html")], true),
            (#"{"Accept": ["text/*"]}"#, [("Accept", "application/json")], false),
            (#"{"Accept": ["*/json"]}"#, [("Accept", "application/json")], true),
            (#"{"Accept": ["*json*"]}"#, [("Accept", "application/json; charset=utf-8")], true),
            (#"{"Accept": ["*xml*"]}"#, [("Accept", "application/json")], false),
            // any value of a repeated field
            (#"{"X-Tag": ["b"]}"#, [("X-Tag", "a"), ("X-Tag", "b")], true),
            (#"{"X-Tag": ["b"]}"#, [("X-Tag", "a,b")], false),
            // null: must be absent
            (#"{"X-Debug": null}"#, [], true),
            (#"{"X-Debug": null}"#, [("X-Debug", "1")], false),
            (#"{"X-Debug": null}"#, [("X-Debug", "")], false),
            // []: must be present, any value
            (#"{"Authorization": []}"#, [("Authorization", "Bearer x")], true),
            (#"{"Authorization": []}"#, [("Authorization", "")], true),
            (#"{"Authorization": []}"#, [], false),
            // fields AND'ed
            (#"{"X-A": ["1"], "X-B": ["2"]}"#, [("X-A", "1"), ("X-B", "2")], true),
            (#"{"X-A": ["1"], "X-B": ["2"]}"#, [("X-A", "1")], false),
            (#"{"X-A": ["1"], "X-B": null}"#, [("X-A", "1")], true),
        ]
        for (json, headers, expected) in table {
            let set = try matcherSet(#"{"header": \#(json)}"#)
            XCTAssertEqual(try set.matches(request("/", headers: headers)), expected, "\(json) vs \(headers)")
        }
    }

    func testHostField() throws {
        let set = try matcherSet(#"{"header": {"Host": ["*.example.com"]}}"#)
        XCTAssertTrue(try set.matches(request("/", host: "www.example.com")))
        XCTAssertFalse(try set.matches(request("/", host: "example.org")))
        let withPort = try matcherSet(#"{"header": {"Host": ["localhost:8080"]}}"#)
        XCTAssertTrue(try withPort.matches(request("/", host: "localhost:8080")), "the Host value includes its port")
    }

    func testPlaceholdersInValues() throws {
        let set = try matcherSet(#"{"header": {"X-Echo": ["{http.request.uri.query.token}"]}}"#)
        XCTAssertTrue(try set.matches(request("/?token=abc", headers: [("X-Echo", "abc")])))
        XCTAssertFalse(try set.matches(request("/?token=abc", headers: [("X-Echo", "xyz")])))
    }

    func testBadShapesAreConfigErrors() throws {
        let notArray = try XCTUnwrap(matcherError(#"{"header": {"X-A": "v"}}"#))
        XCTAssertTrue(notArray.hasPrefix("apps.http.servers.srv0.routes[0].match[0].header: "), notArray)
        XCTAssertTrue(notArray.contains("X-A"), notArray)
        XCTAssertNotNil(matcherError(#"{"header": ["X-A"]}"#))
    }
}
