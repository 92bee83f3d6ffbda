import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The REST API against a real root on disk.
final class RESTTests: XCTestCase {
    func testUploadListDownloadUpdateDelete() async throws {
        let s = try await SyncServer.start()
        let created = try s.upload("notes/todo%20list.txt", "buy milk")
        XCTAssertEqual(created.status, 201)
        let doc = try s.json(created)
        XCTAssertEqual(doc["seq"]?.int, 1)
        XCTAssertEqual(doc["metadata"]?["hash"]?.string, sha256Hex("buy milk"))
        XCTAssertEqual(s.file("notes/todo list.txt"), "buy milk", "parents created, name with a space kept")

        let list = try s.json(try s.request("GET", "/api/list"))
        let entries = list["files"]!.array
        XCTAssertEqual(entries.map { $0["path"]?.string }, ["notes", "notes/todo list.txt"])
        XCTAssertEqual(entries[0]["is_directory"], .bool(true))
        XCTAssertEqual(entries[1]["size"]?.int, 8)
        XCTAssertTrue(entries[1]["modified"]?.string?.hasSuffix("Z") ?? false)
        XCTAssertEqual(list["seq"]?.int, 1)

        let download = try s.request("GET", "/api/download/notes/todo%20list.txt")
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(download.bodyText, "buy milk")
        XCTAssertEqual(download.header("ETag"), "\"\(sha256Hex("buy milk"))\"")
        let partial = try s.request("GET", "/api/download/notes/todo%20list.txt", headers: [("Range", "bytes=4-")])
        XCTAssertEqual(partial.status, 206)
        XCTAssertEqual(partial.bodyText, "milk")
        let cached = try s.request("GET", "/api/download/notes/todo%20list.txt", headers: [("If-None-Match", "\"\(sha256Hex("buy milk"))\"")])
        XCTAssertEqual(cached.status, 304)

        let stale = try s.upload("notes/todo%20list.txt", "buy bread", headers: [("If-Match", sha256Hex("something else"))])
        XCTAssertEqual(stale.status, 412, "a conflicting update changes nothing")
        XCTAssertEqual(s.file("notes/todo list.txt"), "buy milk")
        let updated = try s.upload("notes/todo%20list.txt", "buy bread", headers: [("If-Match", sha256Hex("buy milk"))])
        XCTAssertEqual(updated.status, 200)
        XCTAssertEqual(s.file("notes/todo list.txt"), "buy bread")

        XCTAssertEqual(try s.request("DELETE", "/api/delete/notes/todo%20list.txt", headers: [("If-Match", sha256Hex("old"))]).status, 412)
        XCTAssertEqual(try s.request("DELETE", "/api/delete/notes/todo%20list.txt").status, 200)
        XCTAssertNil(s.file("notes/todo list.txt"))
        XCTAssertEqual(try s.request("GET", "/api/download/notes/todo%20list.txt").status, 404)
        await s.stop()
    }

    func testMkdirMoveAndUnicodeNames() async throws {
        let s = try await SyncServer.start()
        XCTAssertEqual(try s.request("POST", "/api/mkdir/a/b").status, 201)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/a/b").status, 200, "an existing directory is fine")
        XCTAssertEqual(try s.upload("a/b/%C3%A9t%C3%A9%20%E2%98%80.txt", "sun").status, 201)
        XCTAssertEqual(s.file("a/b/été ☀.txt"), "sun")
        let moved = try s.request("POST", "/api/move", body: Array(#"{"from": "a/b", "to": "c/d"}"#.utf8))
        XCTAssertEqual(moved.status, 200)
        XCTAssertEqual(s.file("c/d/été ☀.txt"), "sun")
        XCTAssertEqual(try s.request("POST", "/api/move", body: Array(#"{"from": "c", "to": "c/inside"}"#.utf8)).status, 409)
        XCTAssertEqual(try s.request("POST", "/api/move", body: Array(#"{"from": "missing", "to": "x"}"#.utf8)).status, 404)
        XCTAssertEqual(try s.request("POST", "/api/move", body: Array("nonsense".utf8)).status, 400)
        let list = try s.json(try s.request("GET", "/api/list?path=c"))
        XCTAssertEqual(list["files"]!.array.map { $0["path"]?.string }, ["c/d", "c/d/été ☀.txt"])
        await s.stop()
    }

    func testChangesNeedEnableUpload() async throws {
        let s = try await SyncServer.start(#""enable_upload": false"#)
        XCTAssertEqual(try s.upload("a.txt", "x").status, 403)
        XCTAssertEqual(try s.request("POST", "/api/mkdir/d").status, 403)
        XCTAssertEqual(try s.request("GET", "/api/list").status, 200, "reading is allowed")
        XCTAssertNil(s.file("a.txt"))
        await s.stop()
    }

    func testTokens() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "tokens": ["s3cret"]"#)
        XCTAssertEqual(try s.request("GET", "/api/list").status, 401)
        XCTAssertEqual(try s.request("GET", "/api/list", headers: [("Authorization", "Bearer wrong")]).status, 401)
        XCTAssertEqual(try s.request("GET", "/api/list", headers: [("Authorization", "Bearer s3cret")]).status, 200)
        XCTAssertEqual(try s.request("GET", "/api/list?token=s3cret").status, 200)
        XCTAssertEqual(try s.request("GET", "/").status, 200, "the page itself is public; it asks for the token")
        do {
            _ = try await s.socket()
            XCTFail("a WebSocket without a token is refused")
        } catch {}
        let socket = try await s.socket("/ws?token=s3cret")
        let ack = try await socket.subscribe("c")
        XCTAssertEqual(ack["type"]?.string, "Ack")
        await s.stop()
    }

    func testMaxUploadSize() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "max_upload_size": 10"#)
        XCTAssertEqual(try s.upload("small.txt", "0123456789").status, 201)
        XCTAssertEqual(try s.upload("big.txt", "0123456789A").status, 413)
        XCTAssertNil(s.file("big.txt"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: s.root + "/.quantum-sync/tmp")
        XCTAssertEqual(leftovers, [], "a refused upload leaves no temporary file")
        await s.stop()
    }

    func testPathsNeverLeaveTheRoot() async throws {
        let outside = NSTemporaryDirectory() + "quantum-sync-outside-\(UUID().uuidString)"
        try "secret".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { unlink(outside) }
        let name = (outside as NSString).lastPathComponent
        let s = try await SyncServer.start(#""enable_upload": true, "ignore": [".git/", "*.tmp"]"#)
        for target in ["../\(name)", "..%2f\(name)", "%2e%2e/\(name)", "%2e%2e%2f\(name)", "a/../../\(name)", "a%00b",
                       "a%2f..%2f..%2f\(name)", ".quantum-sync/operations.jsonl", "%2Equantum-sync/tmp", "./x/../../\(name)"] {
            let download = try s.request("GET", "/api/download/" + target)
            XCTAssertTrue([400, 403, 404].contains(download.status), "\(target): \(download.status)")
            XCTAssertFalse(download.bodyText.contains("secret"), target)
            let upload = try s.upload(target, "pwned")
            XCTAssertTrue([400, 403].contains(upload.status), "\(target): \(upload.status)")
            XCTAssertTrue([400, 403, 404].contains(try s.request("DELETE", "/api/delete/" + target).status), target)
        }
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "secret")
        XCTAssertEqual(try s.upload(".git/config", "x").status, 403, "ignored paths cannot be written")
        XCTAssertEqual(try s.upload("build/out.tmp", "x").status, 403)
        await s.stop()
    }

    func testARefusedUploadLeavesNoTemporaryFile() async throws {
        let s = try await SyncServer.start()
        defer { Task { await s.stop() } }
        _ = try s.upload("a.txt", "a file")
        let body = String(repeating: "x", count: 200_000)
        XCTAssertEqual(try s.upload("a.txt/x", body).status, 409, "a file where a directory should be")
        XCTAssertEqual(try s.upload("a.txt/x", body, headers: [("If-Match", "*")]).status, 412, "nothing is there")
        _ = try s.upload("d/f.txt", "1")
        XCTAssertEqual(try s.upload("d", body).status, 409, "a directory where the file should go")
        XCTAssertEqual(try s.upload("d/f.txt", body, headers: [("If-Match", "0000")]).status, 412)
        let temporary = try FileManager.default.contentsOfDirectory(atPath: s.root + "/.quantum-sync/tmp")
        XCTAssertEqual(temporary, [], "refused uploads must not leave their bodies behind")
    }

    func testNamesThatAreNotUTF8AreRefused() async throws {
        let s = try await SyncServer.start()
        defer { Task { await s.stop() } }
        for name in ["%ff", "%fe", "a%ffb.txt", "%c0%ae", "%ed%a0%80"] {
            XCTAssertEqual(try s.upload(name, "x").status, 400, name)
            XCTAssertEqual(try s.request("GET", "/api/download/" + name).status, 400, name)
            XCTAssertEqual(try s.request("GET", "/api/list?path=" + name).status, 400, name)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: s.root).filter { $0 != ".quantum-sync" }, [])
        XCTAssertEqual(try s.upload("%c3%a9t%c3%a9.txt", "ok").status, 201, "valid UTF-8 escapes still work")
        XCTAssertEqual(s.file("été.txt"), "ok")
    }

    func testPreconditionFailedCarriesTheCurrentHash() async throws {
        let s = try await SyncServer.start()
        defer { Task { await s.stop() } }
        _ = try s.upload("a.txt", "current")
        let upload = try s.upload("a.txt", "new", headers: [("If-Match", "\"0000\"")])
        XCTAssertEqual(upload.status, 412)
        XCTAssertEqual(try s.json(upload)["hash"]?.string, sha256Hex("current"))
        XCTAssertEqual(upload.header("etag"), "\"\(sha256Hex("current"))\"")
        let delete = try s.request("DELETE", "/api/delete/a.txt", headers: [("If-Match", "0000")])
        XCTAssertEqual(delete.status, 412)
        XCTAssertEqual(try s.json(delete)["hash"]?.string, sha256Hex("current"))
        XCTAssertEqual(s.file("a.txt"), "current")
        // `*` only asks that something is there: a directory is.
        _ = try s.request("POST", "/api/mkdir/dir")
        XCTAssertEqual(try s.request("DELETE", "/api/delete/dir", headers: [("If-Match", "*")]).status, 200)
        XCTAssertEqual(try s.request("DELETE", "/api/delete/missing", headers: [("If-Match", "*")]).status, 404)
    }

    func testListSinceReturnsOperations() async throws {
        let s = try await SyncServer.start()
        _ = try s.upload("a.txt", "1")
        _ = try s.upload("b.txt", "2")
        _ = try s.request("DELETE", "/api/delete/a.txt")
        let doc = try s.json(try s.request("GET", "/api/list?since=1"))
        XCTAssertEqual(doc["seq"]?.int, 3)
        let ops = doc["operations"]!.array
        XCTAssertEqual(ops.map { $0["seq"]?.int }, [2, 3])
        XCTAssertEqual(ops[1]["operation"]?["Delete"]?["path"]?.string, "a.txt")
        await s.stop()
    }

    func testThePageIsServed() async throws {
        let s = try await SyncServer.start()
        let page = try s.request("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.bodyText.contains("new WebSocket("))
        XCTAssertFalse(page.bodyText.contains("http://") || page.bodyText.contains("https://"), "no external resources")
        await s.stop()
    }
}
