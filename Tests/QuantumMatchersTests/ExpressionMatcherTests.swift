import Quantum
import XCTest

/// `expression`: the CEL subset Caddy configs use, compiled at load, evaluated per request.
final class ExpressionMatcherTests: XCTestCase {
    func expr(_ text: String) throws -> MatcherSet {
        try matcherSet(#"{"expression": \#(JSONValue.quote(text))}"#)
    }

    func testPlaceholdersOperatorsAndStringFunctions() throws {
        try check(expr(#"{http.request.method} == "POST" && {http.request.uri.path}.startsWith("/api")"#), [
            (request("/api/x", method: "POST"), true), (request("/api/x"), false), (request("/web", method: "POST"), false),
        ], "method and path")
        try check(expr(#"{path}.endsWith('.php') || {query}.contains("debug=1")"#), [
            (request("/index.php"), false),  // {path} is not a placeholder of its own (the Caddyfile expands it)
        ], "unknown placeholders are empty")
        try check(expr(#"{http.request.uri.path}.endsWith('.php') || {http.request.uri.query}.contains("debug=1")"#), [
            (request("/index.php"), true), (request("/a?debug=1"), true), (request("/a"), false),
        ], "or")
        try check(expr(#"!({http.request.host} in ['a.example', 'b.example'])"#), [
            (request("/", host: "a.example"), false), (request("/", host: "c.example"), true),
        ], "not in")
        try check(expr(#"{http.request.uri.path}.matches("^/v[0-9]+/") && size({http.request.uri.path}) < 10"#), [
            (request("/v2/x"), true), (request("/v2/longer-path"), false), (request("/x"), false),
        ], "matches and size")
    }

    func testPlaceholderTypesAreCaddys() throws {
        try check(expr(#"int({http.request.header.X-Count}) + 1 >= 3 && {http.request.header.X-Count} != '7'"#), [
            (request("/", headers: [("X-Count", "2")]), true), (request("/", headers: [("X-Count", "1")]), false),
            (request("/", headers: [("X-Count", "7")]), false),
        ], "text converted with int()")
        try check(expr(#"{http.request.header.X-Count} == 2"#), [(request("/", headers: [("X-Count", "2")]), false)],
                  "text is never equal to a number")
        try check(expr(#"{http.request.port} == 8080"#), [(request("/", host: "example.com:8080"), true)], "the port is an integer")
    }

    func testCaddysMatcherFunctions() throws {
        try check(expr(#"path('/admin/*') && method('GET', 'HEAD') && header({'X-Token': 'secret'})"#), [
            (request("/admin/x", headers: [("X-Token", "secret")]), true),
            (request("/admin/x", method: "POST", headers: [("X-Token", "secret")]), false),
            (request("/admin/x"), false),
        ], "path, method, header")
        try check(expr(#"host('a.example') || query({'q': ['1', '2']}) || remote_ip('10.0.0.0/8')"#), [
            (request("/", host: "a.example"), true), (request("/?q=2"), true), (request("/", remote: "10.1.2.3"), true),
            (request("/", remote: "192.0.2.1"), false),
        ], "host, query, remote_ip")
        try check(expr(#"protocol('https') == false && path_regexp('ver', '^/v([0-9])/')"#), [(request("/v3/x"), true)], "regexp")
        var context = Context()
        XCTAssertTrue(try expr(#"path_regexp('ver', '^/v([0-9])/')"#).matches(request("/v3/x"), context: &context))
        XCTAssertEqual(context.placeholders["http.regexp.ver.1"], "3", "captures reach placeholders")
    }

    func testBadExpressionsAreConfigErrors() {
        XCTAssertTrue(matcherError(#"{"expression": "{http.request.method} == "}"#)?.contains("ends too early") == true)
        XCTAssertTrue(matcherError(#"{"expression": "path({http.request.uri})"}"#)?.contains("literal arguments") == true)
        XCTAssertTrue(matcherError(#"{"expression": "{path}.matches('(')"}"#)?.contains("bad regular expression") == true)
        XCTAssertTrue(matcherError(#"{"expression": "host('a') &&& 1"}"#) != nil)
        // Outside the subset: refused when the config loads, not discovered at a request.
        XCTAssertTrue(matcherError(#"{"expression": "nope == 1"}"#)?.contains("undeclared reference to 'nope'") == true)
        XCTAssertTrue(matcherError(#"{"expression": "timestamp('2020') == 1"}"#)?.contains("no function timestamp") == true)
        XCTAssertTrue(matcherError(#"{"expression": "{http.request.uri.path}.split('/') == 1"}"#)?.contains("no function split") == true)
    }

    func testEvaluationErrorsFailTheRequestAsInCaddy() throws {
        for text in [#"{http.request.uri.path} > 3 || 1 == 2"#, "1 / 0 == 1", "int({http.request.header.X-None}) == 1", "'text'"] {
            XCTAssertThrowsError(try expr(text).matches(request("/x")), text) { error in
                XCTAssertEqual((error as? HTTPError)?.status, 500, "\(text): \(error)")
            }
        }
    }

    func testCaddysObjectForm() throws {
        try check(try matcherSet(#"{"expression": {"expr": "{http.request.method} == 'GET'", "name": "get"}}"#),
                  [(request("/"), true), (request("/", method: "PUT"), false)], "object form")
    }
}

/// What review found: limits, byte comparisons, CEL's logic past errors, escapes.
final class ExpressionEdgeTests: XCTestCase {
    func expr(_ text: String) throws -> MatcherSet {
        try matcherSet(#"{"expression": \#(JSONValue.quote(text))}"#)
    }

    func testLongExpressionsAndDynamicPatternsAreRefusedAtLoad() {
        let long = Array(repeating: "true", count: 2000).joined(separator: " && ")
        XCTAssertTrue(matcherError(#"{"expression": "\#(long)"}"#)?.contains("too long") == true)
        XCTAssertTrue(matcherError(#"{"expression": "{http.request.uri.path}.matches({http.request.header.X-Re})"}"#)?
            .contains("literal pattern") == true)
    }

    func testStringsCompareAsBytes() throws {
        // "/admin/" followed by a combining mark still starts with "/admin/" (Swift's grapheme
        // comparison would say no, and a deny rule would be bypassed).
        try check(expr(#"{http.request.uri.path}.startsWith('/admin/')"#), [(request("/admin/%CC%81secret"), true)], "bytes")
        try check(expr(#"'e\u0301' == '\u00e9'"#), [(request("/"), false)], "no normalisation")
        try check(expr(#"{http.request.uri.path}.contains('\u0301')"#), [(request("/a%CC%81"), true)], "contains bytes")
    }

    func testIntegersAndLogicAsCEL() throws {
        try check(expr("9007199254740993 == 9007199254740992"), [(request("/"), false)], "exact integers")
        try check(expr("int({http.request.header.X-None}) == 1 || true"), [(request("/"), true)], "true decides past an error")
        try check(expr("false && int({http.request.header.X-None}) == 1"), [(request("/"), false)], "false decides")
        try check(expr(#"['a', 'b',].size() == 2 && {'k': 1,}.size() == 1"#), [(request("/"), true)], "trailing commas")
        XCTAssertTrue(matcherError(#"{"expression": "'\\q' == 'q'"}"#)?.contains("unknown escape") == true)
    }
}
