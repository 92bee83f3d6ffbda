import Quantum
import QuantumTestSupport
import XCTest

/// `method`: one of the listed methods.
final class MethodMatcherTests: XCTestCase {
    func testTable() throws {
        let set = try matcherSet(#"{"method": ["GET", "HEAD"]}"#)
        try check(set, [
            (request("/", method: "GET"), true),
            (request("/", method: "HEAD"), true),
            (request("/", method: "POST"), false),
            (request("/", method: "OPTIONS"), false),
            (request("/", method: "PROPFIND"), false),
        ], "GET, HEAD")
    }

    func testExtensionMethods() throws {
        let set = try matcherSet(#"{"method": ["PROPFIND", "PURGE"]}"#)
        XCTAssertTrue(try set.matches(request("/", method: "PURGE")))
        XCTAssertFalse(try set.matches(request("/", method: "GET")))
    }

    func testLowercaseConfigValuesAreUppercased() throws {
        // Deliberate difference: Caddy compares JSON values as written, so "get" never matches.
        let set = try matcherSet(#"{"method": ["get"]}"#)
        XCTAssertTrue(try set.matches(request("/", method: "GET")))
    }

    func testMethodsAreCaseSensitiveOnTheRequest() throws {
        // Methods are case-sensitive tokens (RFC 9110 §9.1): "get" is not GET.
        let set = try matcherSet(#"{"method": ["GET"]}"#)
        XCTAssertFalse(try set.matches(request("/", method: "get")))
    }
}
