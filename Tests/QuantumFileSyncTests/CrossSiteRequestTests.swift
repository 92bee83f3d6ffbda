import Foundation
import QuantumTestSupport
import XCTest

/// A page on another site can make a visitor's browser send a form or a `text/plain` POST to a
/// file_sync server it reaches (no CORS preflight). Changes whose `Origin` is present and not
/// allowed are refused; clients that send no Origin (not a browser) keep working.
final class CrossSiteRequestTests: XCTestCase {
    func testChangesFromAnotherOriginAreRefused() async throws {
        let s = try await SyncServer.start()
        defer { Task { await s.stop() } }
        _ = try s.upload("a.txt", "keep")
        let evil = [("Origin", "https://evil.example")]
        let move = try s.request("POST", "/api/move", body: Array(#"{"from":"a.txt","to":"b.txt"}"#.utf8),
                                 headers: evil + [("Content-Type", "text/plain")])
        XCTAssertEqual(move.status, 403)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/made", headers: evil).status, 403)
        XCTAssertEqual(try s.upload("planted.txt", "x", headers: evil).status, 403)
        XCTAssertEqual(try s.request("DELETE", "/api/delete/a.txt", headers: evil).status, 403)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/null-origin", headers: [("Origin", "null")]).status, 403)
        XCTAssertEqual(s.file("a.txt"), "keep")
        XCTAssertNil(s.file("b.txt"))
        XCTAssertNil(s.file("planted.txt"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.root + "/made"))
        // Reading is not a change (and without CORS headers the other site cannot read the answer).
        XCTAssertEqual(try s.request("GET", "/api/list", headers: evil).status, 200)
    }

    func testTheOwnOriginNoOriginAndAllowedOriginsWork() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "allowed_origins": ["https://app.example"]"#)
        defer { Task { await s.stop() } }
        XCTAssertEqual(try s.upload("own.txt", "1", headers: [("Origin", "http://127.0.0.1:\(s.port)")]).status, 201)
        XCTAssertEqual(try s.upload("none.txt", "2").status, 201)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/app", headers: [("Origin", "https://app.example")]).status, 201)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/other", headers: [("Origin", "https://other.example")]).status, 403)
    }
}
