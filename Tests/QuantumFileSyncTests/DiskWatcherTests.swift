import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// Changes other programs make on disk are broadcast; the API's own are not doubled.
final class DiskWatcherTests: XCTestCase {
    func testDiskChangesAreBroadcast() async throws {
        let s = try await SyncServer.start()
        let socket = try await s.socket()
        _ = try await socket.subscribe("observer")
        try "from vim".write(toFile: s.root + "/edited.txt", atomically: false, encoding: .utf8)
        let created = try await socket.nextJSON()
        XCTAssertEqual(created["operation"]?["Create"]?["metadata"]?["path"]?.string, "edited.txt")
        XCTAssertEqual(created["operation"]?["Create"]?["metadata"]?["hash"]?.string, sha256Hex("from vim"))
        XCTAssertEqual(created["source_client"], .null, "the disk is nobody's client")

        try "changed by vim".write(toFile: s.root + "/edited.txt", atomically: false, encoding: .utf8)
        let value1 = try await socket.nextJSON()["operation"]?["Update"]?["metadata"]?["size"]?.int
        XCTAssertEqual(value1, 14)

        try FileManager.default.createDirectory(atPath: s.root + "/new/deep", withIntermediateDirectories: true)
        try "x".write(toFile: s.root + "/new/deep/file.txt", atomically: false, encoding: .utf8)
        var paths: Set<String> = []
        for _ in 0..<3 { paths.insert(try await socket.nextJSON()["operation"]?["Create"]?["metadata"]?["path"]?.string ?? "?") }
        XCTAssertEqual(paths, ["new", "new/deep", "new/deep/file.txt"], "new directories are watched too")

        try FileManager.default.removeItem(atPath: s.root + "/edited.txt")
        let value2 = try await socket.nextJSON()["operation"]?["Delete"]?["path"]?.string
        XCTAssertEqual(value2, "edited.txt")
        await s.stop()
    }

    func testAPIChangesAreNotDoubled() async throws {
        let s = try await SyncServer.start()
        let socket = try await s.socket()
        _ = try await socket.subscribe("observer")
        _ = try s.upload("api.txt", "via api", headers: [("X-Client-Id", "app")])
        let first = try await socket.nextJSON()
        XCTAssertEqual(first["source_client"]?.string, "app")
        // Anything the watcher would add arrives within its debounce; a Ping answer proves order.
        try await Task.sleep(nanoseconds: 600_000_000)
        try await socket.send(text: #"{"type":"Ping"}"#)
        let value3 = try await socket.nextJSON()["type"]?.string
        XCTAssertEqual(value3, "Pong", "no second operation for the API's own write")
        await s.stop()
    }

    func testIgnoredPathsAreNotBroadcast() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "ignore": [".git/", "*.swp"]"#)
        let socket = try await s.socket()
        _ = try await socket.subscribe("observer")
        try FileManager.default.createDirectory(atPath: s.root + "/.git", withIntermediateDirectories: true)
        try "ref".write(toFile: s.root + "/.git/HEAD", atomically: false, encoding: .utf8)
        try "swap".write(toFile: s.root + "/.notes.swp", atomically: false, encoding: .utf8)
        try "real".write(toFile: s.root + "/notes.txt", atomically: false, encoding: .utf8)
        let value4 = try await socket.nextJSON()["operation"]?["Create"]?["metadata"]?["path"]?.string
        XCTAssertEqual(value4, "notes.txt")
        await s.stop()
    }
}
