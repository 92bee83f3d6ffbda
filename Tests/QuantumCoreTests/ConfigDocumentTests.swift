@testable import QuantumCore
import XCTest

/// Caddy's `/config/` traversal on raw JSON, without a server.
final class ConfigDocumentTests: XCTestCase {
    func document(_ json: String) throws -> ConfigDocument { ConfigDocument(try JSONParser.parse(Array(json.utf8))) }

    let sample = #"{"apps": {"http": {"servers": {"a": {"listen": [":1"], "routes": [{"@id": "r0", "handle": []}]}}}}}"#

    func text(_ value: JSONValue) -> String { GoJSON.encode(value) }

    func testReadsFollowKeysAndIndexes() throws {
        let doc = try document(sample)
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen/0")), "\":1\"\n")
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen")), "[\":1\"]\n")
        XCTAssertEqual(text(try doc.read("/config/apps/nothing")), "null\n", "a missing key reads as null")
        XCTAssertEqual(try? doc.read("/config/apps/http/servers/a/listen/7"), nil, "out of bounds")
        XCTAssertThrowsError(try doc.read("/config/apps/http/servers/a/listen/x")) { error in
            XCTAssertEqual((error as? AdminError)?.message,
                           #"[/config/apps/http/servers/a/listen/x] invalid array index 'x': strconv.Atoi: parsing "x": invalid syntax"#)
        }
        XCTAssertThrowsError(try doc.read("/config/apps/missing/deeper")) { error in
            XCTAssertEqual((error as? AdminError)?.message, "invalid traversal path at: config/apps/missing/deeper")
        }
    }

    func testWholeConfigIsWrittenSortedAndCompactLikeGo() throws {
        let doc = try document(#"{"b": 1.0, "a": "<&>", "c": [true, null, 1e3]}"#)
        XCTAssertEqual(doc.canonical, #"{"a":"\u003c\u0026\u003e","b":1,"c":[true,null,1000]}"# + "\n")
    }

    func testPostAppendsToArraysAndSetsOtherwise() throws {
        var doc = try document(sample)
        doc = try doc.applying(.post, at: "/config/apps/http/servers/a/listen", body: .string(":2"))
        doc = try doc.applying(.post, at: "/config/apps/http/servers/a/listen/...", body: .array([.string(":3"), .string(":4")]))
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen")), #"[":1",":2",":3",":4"]"# + "\n")
        doc = try doc.applying(.post, at: "/config/apps/http/grace_period", body: .string("5s"))
        XCTAssertEqual(text(try doc.read("/config/apps/http/grace_period")), "\"5s\"\n")
        XCTAssertThrowsError(try doc.applying(.post, at: "/config/apps/http/servers/a/listen/...", body: .string("x"))) { error in
            XCTAssertEqual((error as? AdminError)?.message, "final element is not an array")
        }
    }

    func testPutCreatesOrInsertsAndRefusesAnExistingKey() throws {
        var doc = try document(sample)
        doc = try doc.applying(.put, at: "/config/apps/http/servers/a/listen/0", body: .string(":0"))
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen")), #"[":0",":1"]"# + "\n")
        doc = try doc.applying(.put, at: "/config/apps/tls/automation/policies", body: .array([]))
        XCTAssertEqual(text(try doc.read("/config/apps/tls")), #"{"automation":{"policies":[]}}"# + "\n", "missing parents are made")
        XCTAssertThrowsError(try doc.applying(.put, at: "/config/apps/http", body: .object([]))) { error in
            XCTAssertEqual(error as? AdminError, AdminError(409, "[/config/apps/http] key already exists: http"))
        }
    }

    func testPatchReplacesOnlyWhatExistsAndDeleteRemoves() throws {
        var doc = try document(sample)
        XCTAssertThrowsError(try doc.applying(.patch, at: "/config/apps/pki", body: .object([]))) { error in
            XCTAssertEqual((error as? AdminError)?.status, 404)
        }
        doc = try doc.applying(.patch, at: "/config/apps/http/servers/a/listen/0", body: .string(":9"))
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen/0")), "\":9\"\n")
        doc = try doc.applying(.delete, at: "/config/apps/http/servers/a/listen/0", body: nil)
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen")), "[]\n")
        doc = try doc.applying(.delete, at: "/config/apps/http/servers/a/routes", body: nil)
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a")), #"{"listen":[]}"# + "\n")
        XCTAssertThrowsError(try doc.applying(.delete, at: "/config/apps/http/servers/a/routes", body: nil)) { error in
            XCTAssertEqual((error as? AdminError)?.status, 404)
        }
    }

    func testAnEditLeavesTheOriginalAlone() throws {
        let doc = try document(sample)
        _ = try doc.applying(.delete, at: "/config/apps", body: nil)
        XCTAssertEqual(text(try doc.read("/config/apps/http/servers/a/listen/0")), "\":1\"\n")
    }

    func testIDsIndexTheirObjects() throws {
        XCTAssertEqual(try document(sample).ids, ["r0": "/config/apps/http/servers/a/routes/0"])
    }

    /// Caddy 2.6.2's own answer to `GET /config/` for this config, ETag included (read off
    /// `caddy run` with the same JSON): the same bytes and the same hash here.
    func testTheETagIsCaddysForTheSameConfig() throws {
        let doc = try document(#"{"admin": {"listen": "127.0.0.1:22019"}, "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:22080"], "routes": [{"handle": [{"handler": "static_response", "body": "x"}]}]}}}}}"#)
        let json = GoJSON.encode(try doc.read("/config/"))
        XCTAssertEqual(json, #"{"admin":{"listen":"127.0.0.1:22019"},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:22080"],"routes":[{"handle":[{"body":"x","handler":"static_response"}]}]}}}}}"# + "\n")
        XCTAssertEqual(ConfigDocument.hash(json), "eee1184d")
    }
}
