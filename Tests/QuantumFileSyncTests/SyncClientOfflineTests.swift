import Foundation
import Glibc
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// Clients that were away: catch-up with `since`, changes made while offline, a history too
/// short (resync), and a server that goes away and comes back (reconnect with backoff).
final class SyncClientOfflineTests: XCTestCase {
    func testAClientOfflineDuringChangesCatchesUpBothWays() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "online"), b = try TestSyncClient(s, id: "offline")
        try a.write("keep.txt", "same")
        try a.write("edit me.txt", "old")
        try a.write("delete me.txt", "bye")
        try a.write("dir/move me.txt", "moving")
        try await a.startRealtime()
        try await b.startRealtime()
        try await eventually("B synced") { b.listing() == a.listing() && b.read("dir/move me.txt") == "moving" }
        await b.stop()

        // While B is away: A changes things, and B's owner changes other things.
        try a.write("edit me.txt", "new")
        try FileManager.default.removeItem(atPath: a.path("delete me.txt"))
        try FileManager.default.moveItem(atPath: a.path("dir/move me.txt"), toPath: a.path("dir/moved.txt"))
        try a.write("new from A/ok.txt", "A")
        try b.write("written offline.txt", "B")
        try FileManager.default.removeItem(atPath: b.path("keep.txt"))
        try await eventually("the server has A's changes") { s.file("dir/moved.txt") == "moving" && s.file("edit me.txt") == "new" }

        // B comes back (a new client on the same folder, as after a restart).
        let b2 = try TestSyncClient(s, id: "offline", dir: b.dir)
        try await b2.startRealtime()
        try await eventually("B caught up") {
            b2.read("edit me.txt") == "new" && !b2.exists("delete me.txt") && b2.read("dir/moved.txt") == "moving"
                && !b2.exists("dir/move me.txt") && b2.read("new from A/ok.txt") == "A"
        }
        try await eventually("A got B's offline changes") { a.read("written offline.txt") == "B" && !a.exists("keep.txt") }
        try await eventually("everyone agrees") { a.listing() == b2.listing() && a.listing() == s.listing() }
        await a.stop(); await b2.stop()
        a.remove(); b.remove(); await s.stop()
    }

    func testHistoryTooShortFallsBackToAFullCompare() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "history": 2"#)
        let b = try TestSyncClient(s, id: "late")
        _ = try s.upload("first.txt", "1")
        try await b.client.synchronize()
        for i in 0..<6 { _ = try s.upload("batch/\(i).txt", "\(i)") }
        _ = try s.request("DELETE", "/api/delete/first.txt")
        try await b.startRealtime()
        try await eventually("resynced") { b.listing() == s.listing() && b.read("batch/5.txt") == "5" && !b.exists("first.txt") }
        XCTAssertTrue(b.logLines.all.contains { $0.contains("comparing everything") }, "\(b.logLines.all)")
        await b.stop()
        b.remove(); await s.stop()
    }

    func testReconnectsWhenTheServerComesBackAndCatchesUp() async throws {
        let port = try freeTCPPort()
        let root = NSTemporaryDirectory() + "quantum-sync-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        func startServer() async throws -> TestServer {
            try await TestServer.start("""
            {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\(port)"],
              "routes": [{"handle": [{"handler": "file_sync", "root": \(JSONValue.quote(root)), "enable_upload": true}]}]}}}}}
            """)
        }
        var server = try await startServer()
        let dir = NSTemporaryDirectory() + "quantum-sync-client-restart-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = SyncClient.Options(server: "http://127.0.0.1:\(port)", localPath: dir, clientID: "roamer")
        options.pingInterval = .seconds(1)
        options.firstBackoff = .milliseconds(100)
        options.maxBackoff = .milliseconds(400)
        let lines = LogLines()
        options.log = { lines.append($0) }
        let client = try SyncClient(options)
        let task = Task { await client.runRealtime() }
        try await eventually("subscribed") { await client.subscriptions == 1 }

        await server.stop()
        try await eventually("noticed the server is gone") { await !client.isSubscribed }
        // A local change the client cannot send now: it is sent once the server is back.
        try Data("written while the server was down".utf8).write(to: URL(fileURLWithPath: dir + "/local while down.txt"))
        try await eventually("the failed send was noticed") { lines.all.contains { $0.contains("cannot send") } }
        // The server comes back; a change is made at once (usually before the client's
        // backoff has passed: then it arrives through `since`, else live).
        server = try await startServer()
        let put = try RawClient(port: port)
        put.send("PUT /api/upload/missed.txt HTTP/1.1\r\nHost: x\r\nX-Client-Id: other\r\nContent-Length: 10\r\nConnection: close\r\n\r\nwhile away")
        XCTAssertEqual(put.readResponse()?.status, 201)
        try await eventually("reconnected", timeout: 15) { await client.subscriptions >= 2 }
        try await eventually("caught up") {
            (try? String(contentsOfFile: dir + "/missed.txt", encoding: .utf8)) == "while away"
        }
        try await eventually("the change made while the server was down reached it") {
            (try? String(contentsOfFile: root + "/local while down.txt", encoding: .utf8)) == "written while the server was down"
        }
        // And it sends again: a local change after the reconnect reaches the server.
        try Data("after".utf8).write(to: URL(fileURLWithPath: dir + "/after.txt"))
        try await eventually("local change sent after reconnecting") {
            (try? String(contentsOfFile: root + "/after.txt", encoding: .utf8)) == "after"
        }
        await client.stop()
        await task.value
        await server.stop()
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testAServerThatLostItsHistoryGetsAFullCompare() async throws {
        let port = try freeTCPPort()
        func startServer(_ root: String) async throws -> TestServer {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            return try await TestServer.start("""
            {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\(port)"],
              "routes": [{"handle": [{"handler": "file_sync", "root": \(JSONValue.quote(root)), "enable_upload": true}]}]}}}}}
            """)
        }
        let oldRoot = NSTemporaryDirectory() + "quantum-sync-old-\(UUID().uuidString)", newRoot = oldRoot + "-new"
        defer { try? FileManager.default.removeItem(atPath: oldRoot); try? FileManager.default.removeItem(atPath: newRoot) }
        var server = try await startServer(oldRoot)
        let dir = NSTemporaryDirectory() + "quantum-sync-client-lost-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<5 { try Data("\(i)".utf8).write(to: URL(fileURLWithPath: dir + "/f\(i).txt")) }
        var options = SyncClient.Options(server: "http://127.0.0.1:\(port)", localPath: dir, clientID: "keeper")
        options.firstBackoff = .milliseconds(100)
        options.maxBackoff = .milliseconds(300)
        let lines = LogLines()
        options.log = { lines.append($0) }
        let client = try SyncClient(options)
        try await client.synchronize()
        let task = Task { await client.runRealtime() }
        // Its own five uploads come back through `since` and only advance its seq.
        try await eventually("subscribed and at seq 5") {
            let (subscriptions, seq) = (await client.subscriptions, await client.state.lastSeq)
            return subscriptions == 1 && seq == 5
        }
        // The server is replaced by one with an empty root and a new log (seq 1 < 5).
        await server.stop()
        server = try await startServer(newRoot)
        let put = try RawClient(port: port)
        put.send("PUT /api/upload/fresh.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfresh")
        XCTAssertEqual(put.readResponse()?.status, 201)
        // Seq 1 on the new server is not "already seen", and the old base means nothing there:
        // a compare without a base — nothing is deleted, both sides get everything.
        try await eventually("compared with the new server", timeout: 15) {
            FileManager.default.fileExists(atPath: dir + "/fresh.txt")
                && (0..<5).allSatisfy { FileManager.default.fileExists(atPath: newRoot + "/f\($0).txt") }
        }
        XCTAssertTrue(lines.all.contains { $0.contains("behind this client's") }, "\(lines.all)")
        XCTAssertEqual((0..<5).compactMap { try? String(contentsOfFile: dir + "/f\($0).txt", encoding: .utf8) }, ["0", "1", "2", "3", "4"])
        await client.stop()
        await task.value
        await server.stop()
    }
}
