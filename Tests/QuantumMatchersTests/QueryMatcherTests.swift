import Quantum
import QuantumTestSupport
import XCTest

/// `query`: every key present with one of its values (`*` = any); invalid query strings never match.
final class QueryMatcherTests: XCTestCase {
    func testTable() throws {
        let table: [(String, String, Bool)] = [
            (#"{"q": ["a"]}"#, "/?q=a", true),
            (#"{"q": ["a"]}"#, "/?q=b", false),
            (#"{"q": ["a"]}"#, "/?x=a", false),
            (#"{"q": ["a"]}"#, "/", false),
            (#"{"q": ["a", "b"]}"#, "/?q=b", true),
            (#"{"q": ["b"]}"#, "/?q=a&q=b", true),
            (#"{"q": ["*"]}"#, "/?q=", true),
            (#"{"q": ["*"]}"#, "/?q", true),
            (#"{"q": ["*"]}"#, "/?other=1", false),
            (#"{"q": []}"#, "/?q=anything", false), // Caddy counts keys with a matching value: none here
            (#"{"q": ["a b"]}"#, "/?q=a+b", true),
            (#"{"q": ["a b"]}"#, "/?q=a%20b", true),
            (#"{"q": ["a&b"]}"#, "/?q=a%26b", true),
            (#"{"k y": ["v"]}"#, "/?k%20y=v", true),
            (#"{"Q": ["a"]}"#, "/?q=a", false),
            // keys are AND'ed
            (#"{"a": ["1"], "b": ["2"]}"#, "/?a=1&b=2", true),
            (#"{"a": ["1"], "b": ["2"]}"#, "/?b=2&a=1", true),
            (#"{"a": ["1"], "b": ["2"]}"#, "/?a=1", false),
            (#"{"a": ["1"], "b": ["*"]}"#, "/?a=1&b=zz", true),
            // invalid query strings never match
            (#"{"q": ["*"]}"#, "/?q=%zz", false),
            (#"{"q": ["*"]}"#, "/?q=a;b", false),
            (#"{"q": ["*"]}"#, "/?q=1&x=%", false),
        ]
        for (json, target, expected) in table {
            let set = try matcherSet(#"{"query": \#(json)}"#)
            XCTAssertEqual(try set.matches(request(target)), expected, "\(json) vs \(target)")
        }
    }

    func testEmptyMatcherMatchesOnlyAnEmptyQuery() throws {
        let set = try matcherSet(#"{"query": {}}"#)
        XCTAssertTrue(try set.matches(request("/")))
        XCTAssertFalse(try set.matches(request("/?a=1")))
    }

    func testPlaceholdersInKeysAndValues() throws {
        let set = try matcherSet(#"{"query": {"{http.request.header.X-Key}": ["{http.request.header.X-Value}"]}}"#)
        XCTAssertTrue(try set.matches(request("/?color=red", headers: [("X-Key", "color"), ("X-Value", "red")])))
        XCTAssertFalse(try set.matches(request("/?color=red", headers: [("X-Key", "color"), ("X-Value", "blue")])))
    }
}
