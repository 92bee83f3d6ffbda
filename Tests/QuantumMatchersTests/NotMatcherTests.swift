import Quantum
import QuantumTestSupport
import XCTest

/// `not`: a list of matcher sets; true when none of them matches.
final class NotMatcherTests: XCTestCase {
    func testNegatesOneSet() throws {
        let set = try matcherSet(#"{"not": [{"path": ["/admin/*"]}]}"#)
        try check(set, [(request("/admin/x"), false), (request("/public"), true)], "not path")
    }

    func testSetsAreOredInsideNot() throws {
        // not (path /a OR method POST)
        let set = try matcherSet(#"{"not": [{"path": ["/a"]}, {"method": ["POST"]}]}"#)
        try check(set, [
            (request("/a"), false),
            (request("/b", method: "POST"), false),
            (request("/b"), true),
        ], "not [path, method]")
    }

    func testMatchersInsideOneSetAreAnded() throws {
        // not (path /a AND method POST)
        let set = try matcherSet(#"{"not": [{"path": ["/a"], "method": ["POST"]}]}"#)
        try check(set, [
            (request("/a", method: "POST"), false),
            (request("/a"), true),
            (request("/b", method: "POST"), true),
        ], "not {path, method}")
    }

    func testCombinesWithOtherMatchersInTheSet() throws {
        let set = try matcherSet(#"{"path": ["/api/*"], "not": [{"header": {"Authorization": []}}]}"#)
        try check(set, [
            (request("/api/x"), true),
            (request("/api/x", headers: [("Authorization", "Bearer t")]), false),
            (request("/web"), false),
        ], "path and not header")
    }

    func testDoubleNegation() throws {
        let set = try matcherSet(#"{"not": [{"not": [{"host": ["a.example"]}]}]}"#)
        try check(set, [(request("/", host: "a.example"), true), (request("/", host: "b.example"), false)], "not not")
    }

    func testNegatedMatchersLeaveNoCaptures() throws {
        let set = try matcherSet(#"{"not": [{"path_regexp": {"name": "x", "pattern": "^/(a)$"}}]}"#)
        var context = Context()
        XCTAssertFalse(try set.matches(request("/a"), context: &context))
        XCTAssertNil(context.placeholders["http.regexp.x.1"])
    }

    func testEmptyNotMatchesEverything() throws {
        let set = try matcherSet(#"{"not": []}"#)
        XCTAssertTrue(try set.matches(request("/anything")))
    }
}
