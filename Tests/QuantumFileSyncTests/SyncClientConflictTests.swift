import Foundation
import Glibc
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// Conflicts lose nothing: the server's version keeps the name, the other is kept as
/// `NAME (conflict CLIENT DATE).EXT` on both sides.
final class SyncClientConflictTests: XCTestCase {
    private func conflictCopies(_ names: [String], of stem: String) -> [String] {
        names.filter { $0.hasPrefix(stem + " (conflict ") }
    }

    func testBothChangedKeepsBothVersionsOnBothSides() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "alice"), b = try TestSyncClient(s, id: "bob")
        try a.write("plan.txt", "base")
        try await a.client.synchronize()
        try await b.client.synchronize()
        XCTAssertEqual(b.read("plan.txt"), "base")

        try a.write("plan.txt", "alice's edit")
        try b.write("plan.txt", "bob's edit")
        try await a.client.synchronize()   // first to the server: keeps the name
        let summary = try await b.client.synchronize()
        XCTAssertEqual(summary.conflicts, 1)
        XCTAssertEqual(b.read("plan.txt"), "alice's edit")
        let copies = conflictCopies(b.listing(), of: "plan")
        XCTAssertEqual(copies.count, 1, "\(b.listing())")
        let copy = try XCTUnwrap(copies.first)
        XCTAssertTrue(copy.hasPrefix("plan (conflict bob 20") && copy.hasSuffix(").txt"), copy)
        XCTAssertEqual(b.read(copy), "bob's edit")
        XCTAssertEqual(s.file(copy), "bob's edit")
        XCTAssertEqual(s.file("plan.txt"), "alice's edit")
        try await a.client.synchronize()
        XCTAssertEqual(a.read(copy), "bob's edit")
        XCTAssertEqual(a.listing(), b.listing())
        a.remove(); b.remove(); await s.stop()
    }

    func testAnUploadRefusedWithPreconditionFailedBecomesAConflict() async throws {
        let s = try await SyncServer.start()
        let b = try TestSyncClient(s, id: "bob")
        try b.write("notes/today.md", "base")
        try await b.client.synchronize()
        // Someone else changes the server's copy; B, not running, edits its own.
        _ = try s.upload("notes/today.md", "theirs", headers: [("X-Client-Id", "carol")])
        try b.write("notes/today.md", "mine")
        // Realtime start sends local changes first (If-Match: the base hash) → 412 → conflict.
        try await b.startRealtime()
        try await eventually("both versions on both sides") {
            let copies = self.conflictCopies(b.listing(), of: "notes/today")
            guard copies.count == 1, let copy = copies.first else { return false }
            return b.read("notes/today.md") == "theirs" && b.read(copy) == "mine" && s.file(copy) == "mine" && s.file("notes/today.md") == "theirs"
        }
        await b.stop()
        b.remove(); await s.stop()
    }

    func testANewLocalFileDoesNotOverwriteOneCreatedOnTheServerMeanwhile() async throws {
        let s = try await SyncServer.start()
        let b = try TestSyncClient(s, id: "bob")
        try await b.client.synchronize()
        // Both create the same new name while B is not running; the server's came first.
        _ = try s.upload("idea.txt", "carol's idea", headers: [("X-Client-Id", "carol")])
        try b.write("idea.txt", "bob's idea")
        try await b.startRealtime()
        try await eventually("both ideas kept") {
            let copies = self.conflictCopies(s.listing(), of: "idea")
            guard copies.count == 1, let copy = copies.first else { return false }
            return s.file("idea.txt") == "carol's idea" && s.file(copy) == "bob's idea" && b.read("idea.txt") == "carol's idea" && b.read(copy) == "bob's idea"
        }
        await b.stop()
        b.remove(); await s.stop()
    }

    func testRealtimeEditsOfTheSameFileLoseNothing() async throws {
        let s = try await SyncServer.start()
        let a = try TestSyncClient(s, id: "alice"), b = try TestSyncClient(s, id: "bob")
        try a.write("shared.txt", "base")
        try await a.client.synchronize()
        try await b.client.synchronize()
        try await a.startRealtime()
        try await b.startRealtime()
        // Written at once on both sides: whichever reaches the server first keeps the name.
        try a.write("shared.txt", "from alice")
        try b.write("shared.txt", "from bob")
        try await eventually("both versions everywhere, same on all sides") {
            let names = s.listing()
            let contents = Set(names.filter { $0.hasPrefix("shared") }.compactMap { s.file($0) })
            return contents == ["from alice", "from bob"] && a.listing() == names && b.listing() == names
                && names.filter({ $0.hasPrefix("shared") }).allSatisfy { a.read($0) == s.file($0) && b.read($0) == s.file($0) }
        }
        await a.stop(); await b.stop()
        a.remove(); b.remove(); await s.stop()
    }

    func testConflictNames() {
        let t = 1_795_747_322  // 2026-11-27 02:42:02 UTC
        XCTAssertEqual(ConflictNaming.name(for: "report.txt", client: "laptop", epochSeconds: t), "report (conflict laptop 2026-11-27 024202).txt")
        XCTAssertEqual(ConflictNaming.name(for: "a/b/archive.tar.gz", client: "pc", epochSeconds: t), "a/b/archive.tar (conflict pc 2026-11-27 024202).gz")
        XCTAssertEqual(ConflictNaming.name(for: "dir/.env", client: "x", epochSeconds: t), "dir/.env (conflict x 2026-11-27 024202)")
        XCTAssertEqual(ConflictNaming.name(for: "Makefile", client: "a/b", epochSeconds: t, attempt: 2), "Makefile (conflict a-b 2026-11-27 024202 2)")
        XCTAssertEqual(ConflictNaming.name(for: "café menü.md", client: "ü", epochSeconds: t), "café menü (conflict ü 2026-11-27 024202).md")
    }
}
