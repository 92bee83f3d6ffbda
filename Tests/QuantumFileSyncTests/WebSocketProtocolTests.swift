import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The WebSocket protocol: subscribe, broadcasts with their source, heartbeats, errors that
/// keep the connection, catch-up with `since`, path filters, operations sent by clients.
final class WebSocketProtocolTests: XCTestCase {
    func testSubscribeThenReceiveOperationsWithTheirSource() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        let socket = try await s.socket()
        let ack = try await socket.subscribe("laptop")
        XCTAssertEqual(ack["type"]?.string, "Ack")
        XCTAssertEqual(ack["for"]?.string, "Subscribe")
        XCTAssertEqual(ack["seq"]?.int, 0)

        _ = try s.upload("a.txt", "hello", headers: [("X-Client-Id", "phone")])
        let created = try await socket.nextJSON()
        XCTAssertEqual(created["type"]?.string, "FileOperation")
        XCTAssertEqual(created["seq"]?.int, 1)
        XCTAssertEqual(created["source_client"]?.string, "phone")
        let meta = created["operation"]?["Create"]?["metadata"]
        XCTAssertEqual(meta?["path"]?.string, "a.txt")
        XCTAssertEqual(meta?["hash"]?.string, sha256Hex("hello"))
        XCTAssertEqual(meta?["size"]?.int, 5)

        _ = try s.upload("a.txt", "hello again")
        let value1 = try await socket.nextJSON()["operation"]?["Update"]?["metadata"]?["size"]?.int
        XCTAssertEqual(value1, 11)
        _ = try s.request("POST", "/api/move", body: Array(#"{"from":"a.txt","to":"b.txt"}"#.utf8))
        let moved = try await socket.nextJSON()["operation"]?["Move"]
        XCTAssertEqual(moved?["from"]?.string, "a.txt")
        XCTAssertEqual(moved?["to"]?.string, "b.txt")
        _ = try s.request("DELETE", "/api/delete/b.txt")
        let value2 = try await socket.nextJSON()["operation"]?["Delete"]?["path"]?.string
        XCTAssertEqual(value2, "b.txt")
        await s.stop()
    }

    func testPingErrorsAndTheConnectionSurvives() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        let socket = try await s.socket()
        try await socket.send(text: #"{"type":"Ping"}"#)
        let value3 = try await socket.nextJSON()["type"]?.string
        XCTAssertEqual(value3, "Pong")
        try await socket.send(text: "not json")
        let value4 = try await socket.nextJSON()["type"]?.string
        XCTAssertEqual(value4, "Error")
        try await socket.send(text: #"{"type":"Dance"}"#)
        let unknown = try await socket.nextJSON()
        XCTAssertEqual(unknown["type"]?.string, "Error")
        XCTAssertTrue(unknown["message"]?.string?.contains("Dance") ?? false)
        try await socket.send(text: #"{"type":"FileOperation","operation":{"Delete":{"path":"x"}}}"#)
        let value5 = try await socket.nextJSON()["message"]?.string?.contains("not subscribed") ?? false
        XCTAssertTrue(value5)
        try await socket.send(binary: [1, 2, 3])
        let value6 = try await socket.nextJSON()["type"]?.string
        XCTAssertEqual(value6, "Error")
        let value7 = try await socket.subscribe("still-here")["type"]?.string
        XCTAssertEqual(value7, "Ack", "after all that, still connected")
        await s.stop()
    }

    func testOfflineClientCatchesUpWithSince() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        _ = try s.upload("one.txt", "1")
        let first = try await s.socket()
        _ = try await first.subscribe("desk")
        await first.close()
        // Changes while "desk" is away.
        _ = try s.upload("two.txt", "2")
        _ = try s.request("DELETE", "/api/delete/one.txt")
        let back = try await s.socket()
        let ack = try await back.subscribe("desk", since: 1)
        XCTAssertEqual(ack["seq"]?.int, 3)
        XCTAssertNil(ack["resync"])
        let value8 = try await back.nextJSON()["seq"]?.int
        XCTAssertEqual(value8, 2)
        let value9 = try await back.nextJSON()["operation"]?["Delete"]?["path"]?.string
        XCTAssertEqual(value9, "one.txt")
        await s.stop()
    }

    func testHistoryTooShortAsksForAResync() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false, "history": 2"#)
        for i in 0..<5 { _ = try s.upload("f\(i).txt", "x") }
        let socket = try await s.socket()
        let ack = try await socket.subscribe("old", since: 1)
        XCTAssertEqual(ack["resync"], .bool(true))
        await s.stop()
    }

    func testPathFilters() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        let socket = try await s.socket()
        _ = try await socket.subscribe("docs-only", paths: ["docs/*", "notes"])
        _ = try s.upload("music/song.mp3", "la")
        _ = try s.upload("docs/a.txt", "a")
        _ = try s.upload("notes/b.txt", "b")
        // Parents made by an upload come with it; only the file's operation is logged.
        let first = try await socket.nextJSON()
        XCTAssertEqual(first["operation"]?["Create"]?["metadata"]?["path"]?.string, "docs/a.txt")
        let second = try await socket.nextJSON()
        XCTAssertEqual(second["operation"]?["Create"]?["metadata"]?["path"]?.string, "notes/b.txt")
        XCTAssertEqual(second["seq"]?.int, 3, "music/song.mp3 (seq 1) was filtered out")
        await s.stop()
    }

    func testClientOperationsOverTheSocket() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        _ = try s.upload("a.txt", "a")
        let actor1 = try await s.socket(), watcher = try await s.socket()
        _ = try await actor1.subscribe("one")
        _ = try await watcher.subscribe("two")
        try await actor1.send(text: #"{"type":"FileOperation","operation":{"Move":{"from":"a.txt","to":"b.txt"}}}"#)
        var sawAck = false, sawBroadcast = false
        for _ in 0..<2 {
            let m = try await actor1.nextJSON()
            if m["type"]?.string == "Ack" { sawAck = true; XCTAssertEqual(m["for"]?.string, "FileOperation") }
            if m["type"]?.string == "FileOperation" { sawBroadcast = true; XCTAssertEqual(m["source_client"]?.string, "one") }
        }
        XCTAssertTrue(sawAck && sawBroadcast, "the actor gets its Ack and its own broadcast (to ignore by source)")
        let seen = try await watcher.nextJSON()
        XCTAssertEqual(seen["operation"]?["Move"]?["to"]?.string, "b.txt")
        XCTAssertEqual(s.file("b.txt"), "a")
        try await actor1.send(text: #"{"type":"FileOperation","operation":{"Delete":{"path":"../etc"}}}"#)
        let refused = try await actor1.nextJSON()
        XCTAssertEqual(refused["type"]?.string, "Error")
        await s.stop()
    }

    func testLogSurvivesARestart() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        _ = try s.upload("a.txt", "1")
        _ = try s.upload("b.txt", "2")
        await s.stop(removing: false)
        let again = try await SyncServer.start(#""enable_upload": true, "watch": false"#, root: s.root)
        XCTAssertEqual(try again.json(try again.upload("c.txt", "3"))["seq"]?.int, 3, "seq continues from the persisted log")
        let doc = try again.json(try again.request("GET", "/api/list?since=0"))
        XCTAssertEqual(doc["operations"]!.array.count, 3)
        await again.stop()
    }

    func testBrowserOriginsAreChecked() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false, "allowed_origins": ["https://app.example"]"#)
        do {
            _ = try await s.socket(headers: HTTPFields([("Origin", "https://evil.example")]))
            XCTFail("a foreign origin is refused")
        } catch {}
        let allowed = try await s.socket(headers: HTTPFields([("Origin", "https://app.example")]))
        let ack = try await allowed.subscribe("app")
        XCTAssertEqual(ack["type"]?.string, "Ack")
        let sameOrigin = try await s.socket(headers: HTTPFields([("Origin", "http://127.0.0.1:\(s.port)")]))
        let ack2 = try await sameOrigin.subscribe("page")
        XCTAssertEqual(ack2["type"]?.string, "Ack", "the page's own origin is always allowed")
        let refused = try s.request("GET", "/ws", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Origin", "https://evil.example"),
                                                             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")])
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(try s.request("GET", "/ws").status, 426, "plain GET on the socket endpoint")
        await s.stop()
    }
}
