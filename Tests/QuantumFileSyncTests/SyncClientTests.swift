import Foundation
import Glibc
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// `quantum sync` end to end, in-process: a file_sync server and clients on temporary folders.
final class SyncClientTests: XCTestCase {
    func testInitialSyncBothWaysAndASecondRunChangesNothing() async throws {
        let s = try await SyncServer.start()
        _ = try s.upload("server.txt", "from the server")
        _ = try s.upload("docs/deep/nested.md", "# nested")
        _ = try s.upload("na%C3%AFve%20caf%C3%A9/r%C3%A9sum%C3%A9%20final.txt", "unicode and spaces")
        _ = try s.request("POST", "/api/mkdir/empty%20server%20dir")
        let a = try TestSyncClient(s, id: "laptop")
        try a.write("local only.txt", "from the laptop")
        try a.write("photos/2026/日本.txt", "konnichiwa")
        try FileManager.default.createDirectory(atPath: a.path("empty local dir"), withIntermediateDirectories: true)

        let summary = try await a.client.synchronize()
        XCTAssertEqual(summary.failed, 0)
        XCTAssertEqual(a.read("server.txt"), "from the server")
        XCTAssertEqual(a.read("docs/deep/nested.md"), "# nested")
        XCTAssertEqual(a.read("naïve café/résumé final.txt"), "unicode and spaces")
        XCTAssertTrue(a.isDirectory("empty server dir"))
        XCTAssertEqual(s.file("local only.txt"), "from the laptop")
        XCTAssertEqual(s.file("photos/2026/日本.txt"), "konnichiwa")
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.root + "/empty local dir"))
        XCTAssertEqual(a.listing(), s.listing())
        // The state remembers what was synced: nothing left to do.
        XCTAssertTrue(FileManager.default.fileExists(atPath: a.path(".quantum-sync-client/state.json")))
        let again = try await a.client.synchronize()
        XCTAssertEqual(again.changes, 0)
        // No temporary download is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: a.path(".quantum-sync-client/tmp")), [])
        a.remove(); await s.stop()
    }

    func testRealtimeCreateUpdateDeleteMoveAndNestedDirectoriesBothWays() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "alice"), b = try TestSyncClient(s, id: "bob")
        try await a.startRealtime()
        try await b.startRealtime()

        // Create, A → B.
        try a.write("hello world.txt", "v1")
        try await eventually("B has the file") { b.read("hello world.txt") == "v1" }
        // Update, A → B.
        try a.write("hello world.txt", "version two")
        try await eventually("B has the update") { b.read("hello world.txt") == "version two" }
        // Nested directories with Unicode, B → A.
        try b.write("projects/ünïcödé dir/deeper still/notes 📝.md", "deep")
        try await eventually("A has the nested file") { a.read("projects/ünïcödé dir/deeper still/notes 📝.md") == "deep" }
        try FileManager.default.createDirectory(atPath: b.path("projects/empty one"), withIntermediateDirectories: true)
        try await eventually("A has the empty directory") { a.isDirectory("projects/empty one") }
        // Move a file, A → B.
        try FileManager.default.moveItem(atPath: a.path("hello world.txt"), toPath: a.path("projects/renamed.txt"))
        try await eventually("B sees the move") { b.read("projects/renamed.txt") == "version two" && !b.exists("hello world.txt") }
        // Move a directory, B → A.
        try FileManager.default.moveItem(atPath: b.path("projects/ünïcödé dir"), toPath: b.path("moved dir"))
        try await eventually("A sees the directory move") {
            a.read("moved dir/deeper still/notes 📝.md") == "deep" && !a.exists("projects/ünïcödé dir")
        }
        // Delete a file, B → A; delete a directory, A → B.
        try FileManager.default.removeItem(atPath: b.path("projects/renamed.txt"))
        try await eventually("A sees the delete") { !a.exists("projects/renamed.txt") }
        try FileManager.default.removeItem(atPath: a.path("moved dir"))
        try await eventually("B sees the directory delete") { !b.exists("moved dir") }
        try await eventually("all three agree") { a.listing() == b.listing() && b.listing() == s.listing() }
        XCTAssertEqual(s.listing(), ["projects", "projects/empty one"])

        // Moves went over as moves, and nobody echoed what it received.
        let ops = try s.operations()
        XCTAssertTrue(ops.contains { $0.kind == "Move" && $0.path == "projects/renamed.txt" && $0.source == "alice" }, "\(ops)")
        XCTAssertTrue(ops.contains { $0.kind == "Move" && $0.path == "moved dir" && $0.source == "bob" }, "\(ops)")
        let helloWrites = ops.filter { $0.path == "hello world.txt" && ($0.kind == "Create" || $0.kind == "Update") }
        XCTAssertEqual(helloWrites.map(\.source), ["alice", "alice"], "only the writer uploads: \(ops)")
        XCTAssertFalse(ops.contains { $0.path.hasPrefix("projects/ünïcödé dir/deeper still/notes") && $0.source == "alice" }, "\(ops)")
        let conflicts = await a.client.conflicts + b.client.conflicts
        XCTAssertEqual(conflicts, 0)
        await a.stop(); await b.stop()
        a.remove(); b.remove(); await s.stop()
    }

    func testServerSideChangesReachARealtimeClient() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "desk")
        try await a.startRealtime()
        _ = try s.upload("via%20rest.txt", "rest", headers: [("X-Client-Id", "someone-else")])
        try await eventually("REST upload arrives") { a.read("via rest.txt") == "rest" }
        // A program writing into the server's folder directly (the server's disk watcher).
        try Data("disk".utf8).write(to: URL(fileURLWithPath: s.root + "/on disk.txt"))
        try await eventually("disk write arrives") { a.read("on disk.txt") == "disk" }
        _ = try s.request("POST", "/api/move", body: Array(#"{"from":"via rest.txt","to":"sub/moved.txt"}"#.utf8))
        try await eventually("move arrives") { a.read("sub/moved.txt") == "rest" && !a.exists("via rest.txt") }
        _ = try s.request("DELETE", "/api/delete/sub")
        try await eventually("directory delete arrives") { !a.exists("sub") }
        await a.stop()
        a.remove(); await s.stop()
    }

    func testServerURLWithAPrefixAndATokens() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "prefix": "/sync", "tokens": ["s3cret"]"#)
        let put = try s.request("PUT", "/sync/api/upload/a.txt", body: Array("a".utf8), headers: [("Authorization", "Bearer s3cret")])
        XCTAssertEqual(put.status, 201)
        let noToken = try TestSyncClient(s, id: "anon", prefix: "/sync")
        do {
            try await noToken.client.synchronize()
            XCTFail("a missing token must fail")
        } catch let e as SyncClientError {
            XCTAssertEqual(e.status, 401)
        }
        var options = SyncClient.Options(server: "http://127.0.0.1:\(s.port)/sync/", localPath: noToken.dir, clientID: "ok", token: "s3cret")
        options.pingInterval = .seconds(2)
        let client = try SyncClient(options)
        try await client.synchronize()
        XCTAssertEqual(noToken.read("a.txt"), "a")
        // The WebSocket gets the token too.
        let task = Task { await client.runRealtime() }
        try await eventually("subscribed with a token") { await client.subscriptions > 0 }
        _ = try s.request("PUT", "/sync/api/upload/b.txt", body: Array("b".utf8), headers: [("Authorization", "Bearer s3cret")])
        try await eventually("b arrives") { noToken.read("b.txt") == "b" }
        await client.stop()
        await task.value
        noToken.remove(); await s.stop()
    }
}

/// Contents that are not small text: bytes survive both ways, and hashes match the server's.
final class SyncClientLargeFileTests: XCTestCase {
    func testSeveralMegabytesOfRandomBytesBothWays() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "big-a"), b = try TestSyncClient(s, id: "big-b")
        let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        let bytes = Array(random.readData(ofLength: 6 << 20))
        func hash(_ path: String) -> String? { (try? Digest.sha256(file: path)).map(Digest.hex) }
        try Data(bytes).write(to: URL(fileURLWithPath: a.path("blob.bin")))
        try await a.startRealtime()
        try await b.startRealtime()
        let original = Digest.hex(Digest.sha256(bytes))
        try await eventually("B has the blob", timeout: 30) { hash(b.path("blob.bin")) == original }
        var changed = bytes
        changed[0] ^= 0xff
        try Data(changed).write(to: URL(fileURLWithPath: b.path("blob.bin")))
        let edited = Digest.hex(Digest.sha256(changed))
        try await eventually("A has B's change", timeout: 30) { hash(a.path("blob.bin")) == edited }
        let listed = try s.json(s.request("GET", "/api/list"))["files"]?.array.first { $0["path"]?.string == "blob.bin" }
        XCTAssertEqual(listed?["hash"]?.string, edited)
        await a.stop(); await b.stop()
        a.remove(); b.remove(); await s.stop()
    }
}
