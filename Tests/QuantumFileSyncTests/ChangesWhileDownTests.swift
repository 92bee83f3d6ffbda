import Foundation
import Glibc
@testable import QuantumFileSync
import QuantumTestSupport
import XCTest

/// What changes in a synced folder while the server is down reaches clients when it is back:
/// the saved index against the disk, as ordinary operations after the last seq.
final class ChangesWhileDownTests: XCTestCase {
    func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The operations after `seq`, as `"Kind path"` strings in order.
    func operations(_ s: SyncServer, since seq: Int) throws -> [String] {
        let listed = try s.json(try s.request("GET", "/api/list?since=\(seq)"))
        return listed["operations"]?.array.map { entry -> String in
            let op = entry["operation"]
            if let p = op?["Delete"]?["path"]?.string { return "Delete " + p }
            if let p = op?["Create"]?["metadata"]?["path"]?.string { return "Create " + p }
            if let p = op?["Update"]?["metadata"]?["path"]?.string { return "Update " + p }
            return "?"
        } ?? []
    }

    func testChangesMadeWhileDownAreLoggedAtStart() async throws {
        let root = NSTemporaryDirectory() + "quantum-down-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write("gone soon", root + "/a.txt")
        try write("inside", root + "/d/x.txt")
        try write("kept", root + "/keep.txt")
        try write("same size 1", root + "/edit.txt")
        try write("a file now", root + "/swap")
        // Old enough that the first start trusts stamps (files touched in the last seconds are always hashed).
        for name in ["a.txt", "d/x.txt", "keep.txt", "edit.txt", "swap"] {
            var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
            XCTAssertEqual(utimensat(AT_FDCWD, root + "/" + name, &times, 0), 0)
        }

        var s = try await SyncServer.start(root: root)
        XCTAssertEqual(try operations(s, since: 0), [], "the first start has nothing to compare with")
        XCTAssertEqual(try s.upload("api.txt", "through the API").status, 201)
        let seq = try XCTUnwrap(try s.json(try s.request("GET", "/api/list"))["seq"]?.int)
        XCTAssertEqual(seq, 1)
        await s.stop(removing: false)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/.quantum-sync/index.tsv"), "the index is saved when the handler stops")

        // While it is down: a deletion, a directory removed with its contents, an edit that keeps
        // the size and the modification time, new files in a new folder, a file become a folder.
        try FileManager.default.removeItem(atPath: root + "/a.txt")
        try FileManager.default.removeItem(atPath: root + "/d")
        var st = stat()
        XCTAssertEqual(stat(root + "/edit.txt", &st), 0)
        try write("same size 2", root + "/edit.txt")
        var times = [st.st_atim, st.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, root + "/edit.txt", &times, 0), 0, "mtime put back: only ctime shows the edit")
        try write("new", root + "/new/inner.txt")
        try FileManager.default.removeItem(atPath: root + "/swap")
        try write("in the folder", root + "/swap/c.txt")

        s = try await SyncServer.start(root: root)
        let ops = try operations(s, since: seq)
        XCTAssertEqual(ops, ["Delete a.txt", "Delete d", "Delete swap",
                             "Update edit.txt", "Create new", "Create new/inner.txt", "Create swap", "Create swap/c.txt"])
        let listed = try s.json(try s.request("GET", "/api/list?since=\(seq)"))
        let update = listed["operations"]?.array.first { $0["operation"]?["Update"] != nil }
        XCTAssertEqual(update?["operation"]?["Update"]?["metadata"]?["hash"]?.string, sha256Hex("same size 2"))
        XCTAssertEqual(update?["source_client"], .null, "changes on disk are nobody's client")

        // A realtime client catching up with `since` gets them over its socket too.
        let socket = try await s.socket()
        let ack = try await socket.subscribe("late", since: seq)
        XCTAssertEqual(ack["seq"]?.int, seq + ops.count, "\(ack)")
        var caught: [Int] = []
        for _ in ops { caught.append(try await socket.nextJSON()["seq"]?.int ?? -1) }
        XCTAssertEqual(caught, Array((seq + 1)...(seq + ops.count)))
        await s.stop(removing: false)

        // Nothing changed: the next start adds nothing.
        s = try await SyncServer.start(root: root)
        XCTAssertEqual(try operations(s, since: seq + ops.count), [])
        await s.stop(removing: false)

        // A file dated past 2262 (its stamp overflows nanoseconds) and an ignore glob added while
        // down: the server starts, and ignored files are not reported as deleted.
        try write("far", root + "/future.txt")
        var far = [timespec(tv_sec: 10_000_000_000, tv_nsec: 0), timespec(tv_sec: 10_000_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, root + "/future.txt", &far, 0), 0)
        s = try await SyncServer.start(#""enable_upload": true, "ignore": ["new/"]"#, root: root)
        XCTAssertEqual(try operations(s, since: seq + ops.count), ["Create future.txt"])
        await s.stop(removing: false)
    }

    func testTheSavedIndexRoundTrips() throws {
        let file = NSTemporaryDirectory() + "quantum-index-\(UUID().uuidString).tsv"
        defer { unlink(file) }
        let entries: [String: IndexEntry] = [
            "dir": IndexEntry(FileMetadata(path: "dir", size: 0, hash: "", modified: "2026-12-07T10:00:00Z", isDirectory: true)),
            "dir/a b.txt": IndexEntry(FileMetadata(path: "dir/a b.txt", size: 12, hash: String(repeating: "ab", count: 32),
                                                   modified: "2026-12-07T10:00:01Z", isDirectory: false),
                                      stamp: FileStamp(size: 12, modifiedNanos: 1_796_000_000_123_456_789, changedNanos: 1_796_000_001_000_000_000, inode: 42)),
            "é.txt": IndexEntry(FileMetadata(path: "é.txt", size: 1, hash: "00", modified: "2026-12-07T10:00:02Z", isDirectory: false)),
        ]
        try SavedIndex.write(entries, to: file)
        var info = stat()
        XCTAssertEqual(stat(file, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(SavedIndex.read(from: file), entries)
        // Lines that do not parse (or name unsafe paths) are skipped, not fatal.
        try ("../escape\tf\t1\tx\th\t1\t2\t3\nbroken line\n" + (String(data: try Data(contentsOf: URL(fileURLWithPath: file)), encoding: .utf8) ?? ""))
            .write(toFile: file, atomically: false, encoding: .utf8)
        XCTAssertEqual(SavedIndex.read(from: file), entries)
        XCTAssertNil(SavedIndex.read(from: file + ".missing"))
    }
}
