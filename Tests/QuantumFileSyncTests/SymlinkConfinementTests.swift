import Foundation
import Glibc
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// A directory link inside the synced root that points outside it reaches nothing: not through
/// download, list, move, delete, upload, nor the WebSocket's Delete. Links that stay inside are
/// followed on the way to an entry. Each test runs through openat2, then the component walk.
final class SymlinkConfinementTests: XCTestCase {
    var base = ""
    var outside: String { base + "/outside" }
    var sync: SyncServer!

    override func setUp() async throws {
        base = NSTemporaryDirectory() + "quantum-sync-links-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: outside + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: base + "/root/docs", withIntermediateDirectories: true)
        try "secret".write(toFile: outside + "/secret.txt", atomically: false, encoding: .utf8)
        try "more".write(toFile: outside + "/sub/more.txt", atomically: false, encoding: .utf8)
        try "inside".write(toFile: base + "/root/docs/a.txt", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: base + "/root/link", withDestinationPath: "../outside")
        try fm.createSymbolicLink(atPath: base + "/root/abs-link", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: base + "/root/in-link", withDestinationPath: "docs")
        sync = try await SyncServer.start(root: base + "/root")
    }

    override func tearDown() async throws {
        await sync.stop()
        ConfinedRoot.forceWalk.store(false, ordering: .relaxed)
        try? FileManager.default.removeItem(atPath: base)
    }

    private func outsideIsIntact(_ file: StaticString = #filePath, _ line: UInt = #line) {
        XCTAssertEqual(try? String(contentsOfFile: outside + "/secret.txt", encoding: .utf8), "secret", file: file, line: line)
        XCTAssertEqual(try? String(contentsOfFile: outside + "/sub/more.txt", encoding: .utf8), "more", file: file, line: line)
    }

    /// Runs `body` through openat2, then through the component walk (kernels without it).
    private func bothWays(_ body: (String) async throws -> Void) async throws {
        defer { ConfinedRoot.forceWalk.store(false, ordering: .relaxed) }
        for walk in [false, true] {
            ConfinedRoot.forceWalk.store(walk, ordering: .relaxed)
            try await body(walk ? "walk" : "openat2")
        }
    }

    func testDownloadAndListDoNotLeaveTheRoot() async throws {
        try await bothWays { way in
            for link in ["link", "abs-link"] {
                let download = try sync.request("GET", "/api/download/\(link)/secret.txt")
                XCTAssertEqual(download.status, 404, "\(way) \(link)")
                XCTAssertFalse(download.bodyText.contains("secret"), "\(way) \(link)")
                XCTAssertEqual(try sync.request("GET", "/api/list?path=\(link)/sub").status, 404, "\(way) \(link)")
                XCTAssertEqual(try sync.request("GET", "/api/list?path=\(link)").status, 404, "\(way) \(link)")
            }
            let all = try sync.request("GET", "/api/list")
            XCTAssertEqual(all.status, 200, way)
            XCTAssertFalse(all.bodyText.contains("secret.txt"), "\(way): \(all.bodyText)")
        }
    }

    func testChangesDoNotReachOutside() async throws {
        try await bothWays { way in
            let move = try sync.request("POST", "/api/move", body: Array(#"{"from":"link/secret.txt","to":"pulled.txt"}"#.utf8))
            XCTAssertEqual(move.status, 404, way)
            XCTAssertNil(sync.file("pulled.txt"), way)
            XCTAssertEqual(try sync.request("DELETE", "/api/delete/link/secret.txt").status, 404, way)
            XCTAssertEqual(try sync.request("DELETE", "/api/delete/link/sub").status, 404, way)
            XCTAssertEqual(try sync.request("DELETE", "/api/delete/abs-link/sub").status, 404, way)
            let upload = try sync.upload("link/planted.txt", "x")
            XCTAssertNotEqual(upload.status / 100, 2, "\(way): an upload through a link out of the root")
            XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/planted.txt"), way)
            XCTAssertEqual(try sync.request("POST", "/api/mkdir/link/made").status / 100, 4, way)
            XCTAssertFalse(FileManager.default.fileExists(atPath: outside + "/made"), way)
            outsideIsIntact()
        }
    }

    func testWebSocketDeleteDoesNotReachOutside() async throws {
        try await bothWays { way in
            let socket = try await sync.socket()
            _ = try await socket.subscribe("attacker-\(way)")
            try await socket.send(text: #"{"type":"FileOperation","operation":{"Delete":{"path":"link/sub"}}}"#)
            let answer = try await socket.nextJSON()
            XCTAssertEqual(answer["type"]?.string, "Error", "\(way): \(answer)")
            try await socket.send(text: #"{"type":"FileOperation","operation":{"Delete":{"path":"link/secret.txt"}}}"#)
            _ = try await socket.nextJSON()
            outsideIsIntact()
        }
    }

    func testLinksInsideTheRootAreFollowedOnTheWay() async throws {
        try await bothWays { way in
            let r = try sync.request("GET", "/api/download/in-link/a.txt")
            XCTAssertEqual(r.status, 200, way)
            XCTAssertEqual(r.bodyText, "inside", way)
            XCTAssertEqual(try sync.upload("in-link/\(way).txt", "new").status, 201, way)
            XCTAssertEqual(sync.file("docs/\(way).txt"), "new", way)
        }
    }
}
