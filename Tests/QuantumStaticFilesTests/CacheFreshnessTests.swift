import Foundation
import XCTest

/// The per-loop file cache trusts what it saw for one second: a change on disk is served at
/// most ~1 s late (like nginx's open_file_cache). These tests wait 1.2 s, and assert only
/// what is served afterwards — never how fast anything was.
final class CacheFreshnessTests: FileServerTestCase {
    let pause: UInt64 = 1_200_000_000

    /// Asks on several fresh connections, so every event loop (each has its own cache) is seen.
    func assertEverywhere(_ path: String, status: Int, body: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<4 {
            let r = get(path)
            XCTAssertEqual(r.status, status, path, file: file, line: line)
            if let body { XCTAssertEqual(r.text, body, path, file: file, line: line) }
        }
    }

    func testChangedSmallFileIsServedFresh() async throws {
        try tree.file("note.txt", "version one")
        try await serve()
        assertEverywhere("/note.txt", status: 200, body: "version one")
        try tree.file("note.txt", "version two, longer")
        try await Task.sleep(nanoseconds: pause)
        assertEverywhere("/note.txt", status: 200, body: "version two, longer")
        XCTAssertEqual(get("/note.txt").header("ETag"), tree.etag("note.txt"))
    }

    func testReplacedLargeFileIsServedFresh() async throws {
        let first = [UInt8](repeating: 0x41, count: 300_000)
        let second = [UInt8](repeating: 0x42, count: 200_000)
        try tree.file("big.dat", bytes: first)
        try await serve()
        XCTAssertTrue(get("/big.dat").body == first)
        // Replaced by rename, as deploy tools do: the old descriptor still reads the old file.
        let staging = try tree.file("big.dat.new", bytes: second)
        XCTAssertEqual(rename(staging, tree.root + "/big.dat"), 0)
        try await Task.sleep(nanoseconds: pause)
        for _ in 0..<4 {
            let r = get("/big.dat")
            XCTAssertEqual(r.header("Content-Length"), "200000")
            XCTAssertTrue(r.body == second, "stale large file")
        }
    }

    func testDeletedFileDisappears() async throws {
        try tree.file("gone.txt", "here for now")
        try await serve()
        assertEverywhere("/gone.txt", status: 200)
        try FileManager.default.removeItem(atPath: tree.root + "/gone.txt")
        try await Task.sleep(nanoseconds: pause)
        assertEverywhere("/gone.txt", status: 404)
    }

    func testNewFileAppears() async throws {
        try await serve()
        assertEverywhere("/new.txt", status: 404)
        try tree.file("new.txt", "fresh")
        try await Task.sleep(nanoseconds: pause)
        assertEverywhere("/new.txt", status: 200, body: "fresh")
    }

    func testListingFollowsTheDirectory() async throws {
        try tree.file("dir/a.txt", "a")
        try await serve(#""browse": {}"#)
        XCTAssertFalse(get("/dir/", ["-H", "Accept: application/json"]).text.contains("b.txt"))
        try tree.file("dir/b.txt", "b")
        try await Task.sleep(nanoseconds: pause)
        for _ in 0..<4 { XCTAssertTrue(get("/dir/", ["-H", "Accept: application/json"]).text.contains("\"b.txt\"")) }
    }

    func testIndexAddedLater() async throws {
        try tree.file("site/other.txt", "other")
        try await serve()
        assertEverywhere("/site/", status: 404)
        try tree.file("site/index.html", "now with an index")
        try await Task.sleep(nanoseconds: pause)
        assertEverywhere("/site/", status: 200, body: "now with an index")
    }
}
