import Foundation
import Quantum
import QuantumFileSync
import XCTest

/// The three-way compare, case by case, without a server.
final class SyncClientPlannerTests: XCTestCase {
    private func file(_ hash: String) -> LocalEntry { LocalEntry(isDirectory: false, hash: hash, size: 1, mtimeNanos: 0) }
    private let dir = LocalEntry(isDirectory: true, hash: "", size: 0, mtimeNanos: 0)
    private func remote(_ path: String, _ hash: String) -> FileMetadata { FileMetadata(path: path, size: 1, hash: hash, modified: "", isDirectory: false) }
    private func remoteDir(_ path: String) -> FileMetadata { FileMetadata(path: path, size: 0, hash: "", modified: "", isDirectory: true) }
    private func base(_ hash: String) -> ClientState.Entry { ClientState.Entry(isDirectory: false, hash: hash, size: 1, mtimeNanos: 0) }
    private let baseDir = ClientState.Entry(isDirectory: true, hash: "", size: 0, mtimeNanos: 0)

    private func plan(local: [String: LocalEntry] = [:], remote: [FileMetadata] = [], base: [String: ClientState.Entry] = [:]) -> [SyncAction] {
        SyncPlanner.plan(local: local, remote: Dictionary(uniqueKeysWithValues: remote.map { ($0.path, $0) }), base: base)
    }

    func testFilesWithoutABase() {
        XCTAssertEqual(plan(local: ["a": file("1")]), [.upload("a", ifMatch: nil)])
        XCTAssertEqual(plan(remote: [remote("a", "1")]), [.download("a")])
        XCTAssertEqual(plan(local: ["a": file("1")], remote: [remote("a", "1")]), [.remember("a")])
        XCTAssertEqual(plan(local: ["a": file("1")], remote: [remote("a", "2")]), [.conflict("a")], "created on both sides, differently")
    }

    func testOneSideChanged() {
        XCTAssertEqual(plan(local: ["a": file("1")], remote: [remote("a", "2")], base: ["a": base("1")]), [.download("a")])
        XCTAssertEqual(plan(local: ["a": file("2")], remote: [remote("a", "1")], base: ["a": base("1")]), [.upload("a", ifMatch: "1")])
        XCTAssertEqual(plan(local: ["a": file("2")], remote: [remote("a", "3")], base: ["a": base("1")]), [.conflict("a")])
    }

    func testDeletesAgainstChanges() {
        XCTAssertEqual(plan(local: ["a": file("1")], base: ["a": base("1")]), [.deleteLocal("a")], "deleted on the server")
        XCTAssertEqual(plan(remote: [remote("a", "1")], base: ["a": base("1")]), [.deleteRemote("a", ifMatch: "1")], "deleted here")
        XCTAssertEqual(plan(local: ["a": file("2")], base: ["a": base("1")]), [.upload("a", ifMatch: nil)], "changed here beats a delete there")
        XCTAssertEqual(plan(remote: [remote("a", "2")], base: ["a": base("1")]), [.download("a")], "changed there beats a delete here")
        XCTAssertEqual(plan(base: ["a": base("1")]), [.forget("a")])
    }

    func testDirectories() {
        XCTAssertEqual(plan(local: ["d": dir]), [.makeRemoteDirectory("d")])
        XCTAssertEqual(plan(remote: [remoteDir("d")]), [.makeLocalDirectory("d")])
        // Deleted on the server with nothing changed inside: one delete covers it.
        XCTAssertEqual(plan(local: ["d": dir, "d/x": file("1")], base: ["d": baseDir, "d/x": base("1")]), [.deleteLocal("d")])
        // ... but a file changed inside keeps the directory.
        XCTAssertEqual(plan(local: ["d": dir, "d/x": file("2"), "d/y": file("1")], base: ["d": baseDir, "d/x": base("1"), "d/y": base("1")]),
                       [.makeRemoteDirectory("d"), .upload("d/x", ifMatch: nil), .deleteLocal("d/y")])
        // Deleted here; "d a" sorts between "d" and "d/x" and must not hide d/x.
        XCTAssertEqual(plan(local: ["d a": file("1")], remote: [remoteDir("d"), remote("d/x", "1"), remote("d a", "1")],
                            base: ["d": baseDir, "d/x": base("1"), "d a": base("1")]),
                       [.deleteRemote("d", ifMatch: nil), .remember("d a")])
        XCTAssertEqual(plan(local: ["d a": file("1")], remote: [remoteDir("d"), remote("d/x", "2"), remote("d a", "1")],
                            base: ["d": baseDir, "d/x": base("1"), "d a": base("1")]),
                       [.makeLocalDirectory("d"), .remember("d a"), .download("d/x")])
        XCTAssertEqual(plan(local: ["p": dir], remote: [remote("p", "1")]), [.typeClash("p")])
    }

    func testEndpointParsing() throws {
        let e = try SyncEndpoint("http://127.0.0.1:8081/sync/")
        XCTAssertEqual(e.host, "127.0.0.1")
        XCTAssertEqual(e.port, 8081)
        XCTAssertEqual(e.apiTarget("list"), "/sync/api/list")
        XCTAssertEqual(e.webSocketURL, "ws://127.0.0.1:8081/sync/ws")
        XCTAssertEqual(try SyncEndpoint("http://[::1]").webSocketURL, "ws://[::1]/ws")
        let secure = try SyncEndpoint("https://example.com/s")
        XCTAssertEqual(secure.port, 443)
        XCTAssertEqual(secure.hostHeader, "example.com")
        XCTAssertEqual(secure.webSocketURL, "wss://example.com/s/ws")
        XCTAssertThrowsError(try SyncEndpoint("ftp://example.com"))
        XCTAssertThrowsError(try SyncEndpoint("http://host:99999"))
    }
}

/// The default client id is made once per folder and kept.
final class SyncClientIdentityTests: XCTestCase {
    func testStoredIdIsStableAndPerFolder() throws {
        let a = NSTemporaryDirectory() + "quantum-sync-id-\(UUID().uuidString)", b = a + "-other"
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let first = try ClientIdentity.stored(in: a)
        XCTAssertEqual(try ClientIdentity.stored(in: a), first)
        XCTAssertNotEqual(try ClientIdentity.stored(in: b), first)
        XCTAssertTrue(first.count > 7, first)
    }
}

/// The local folder: what may be synced, and what a crash leaves behind.
final class SyncClientLocalTreeTests: XCTestCase {
    func testPathsFromTheServerCannotLeaveTheFolder() throws {
        let dir = NSTemporaryDirectory() + "quantum-sync-tree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree = try LocalTree(root: dir)
        for bad in ["../escape", "a/../../b", "/etc/passwd", "a//b", "./a", "", ".quantum-sync-client/state.json", ".quantum-sync-client",
                    ".quantum-sync/operations.jsonl", "nul\u{0}byte", "new\nline"] {
            XCTAssertFalse(tree.isSyncable(bad), bad)
        }
        for good in ["a", "a b/c d.txt", "ünï/cödé 📝", ".hidden", "..dots", "a/.quantum-sync-client"] {
            XCTAssertTrue(tree.isSyncable(good), good)
        }
    }

    func testADownloadCutShortLeavesOnlyATemporaryFileWhichTheNextStartRemoves() throws {
        let dir = NSTemporaryDirectory() + "quantum-sync-tree-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/.quantum-sync-client/tmp", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("half".utf8).write(to: URL(fileURLWithPath: dir + "/.quantum-sync-client/tmp/download-x"))
        _ = try LocalTree(root: dir)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/.quantum-sync-client/tmp"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), [".quantum-sync-client"])
    }

    func testStateRoundTripsThroughItsFile() throws {
        let dir = NSTemporaryDirectory() + "quantum-sync-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var state = ClientState()
        state.lastSeq = 42
        state.files["a b/ü.txt"] = ClientState.Entry(isDirectory: false, hash: "ab12", size: 3, mtimeNanos: 1_700_000_000_123_456_789)
        state.files["a b"] = ClientState.Entry(isDirectory: true, hash: "", size: 0, mtimeNanos: 5)
        try state.save(dir + "/state.json")
        XCTAssertEqual(try ClientState.load(dir + "/state.json"), state)
        XCTAssertNil(try ClientState.load(dir + "/missing.json"))
    }
}
