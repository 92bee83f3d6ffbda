import Foundation
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// Every pair of changes made on both sides while the client was away, on both ways a client
/// comes back: a full compare (`synchronize`) and a realtime start (local changes sent first,
/// then the server's caught up with `since`). The rules (docs/sync-client.md): a change wins over
/// a delete; two changes keep both (the server's version keeps the name, ours becomes a
/// conflict copy on both sides); a file against a directory is a conflict like any other.
final class SyncClientConflictMatrixTests: XCTestCase {
    enum Return: CaseIterable { case fullCompare, realtime }

    /// A server and Bob's folder, both holding `doc.txt` = "base" (synced); `setUp` makes the
    /// changes while Bob is away, then Bob comes back `way`, and `expect` must come to hold.
    func scenario(_ way: Return, _ changes: (SyncServer, TestSyncClient) throws -> Void,
                  expect: @escaping @Sendable (SyncServer, TestSyncClient) -> Bool, _ what: String) async throws {
        let s = try await SyncServer.start()
        let b = try TestSyncClient(s, id: "bob")
        defer { b.remove() }
        try b.write("doc.txt", "base")
        try await b.client.synchronize()
        try changes(s, b)
        switch way {
        case .fullCompare: try await b.client.synchronize()
        case .realtime: try await b.startRealtime()
        }
        try await eventually("\(what) (\(way))") { expect(s, b) }
        if way == .realtime { await b.stop() }
        XCTAssertEqual(b.listing(), s.listing(), "\(what) (\(way)): both sides end the same")
        await s.stop()
    }

    static func copies(_ names: [String], of stem: String) -> [String] { names.filter { $0.hasPrefix(stem + " (conflict bob ") } }

    func testEditAgainstEditKeepsBoth() async throws {
        for way in Return.allCases {
            try await scenario(way, { s, b in
                _ = try s.upload("doc.txt", "theirs", headers: [("X-Client-Id", "carol")])
                try b.write("doc.txt", "mine")
            }, expect: { s, b in
                let copies = Self.copies(s.listing(), of: "doc")
                return copies.count == 1 && s.file("doc.txt") == "theirs" && b.read("doc.txt") == "theirs"
                    && s.file(copies[0]) == "mine" && b.read(copies[0]) == "mine"
            }, "edit/edit")
        }
    }

    func testEditHereAgainstDeleteThereKeepsTheEdit() async throws {
        for way in Return.allCases {
            try await scenario(way, { s, b in
                XCTAssertEqual(try s.request("DELETE", "/api/delete/doc.txt", headers: [("X-Client-Id", "carol")]).status, 200)
                try b.write("doc.txt", "mine")
            }, expect: { s, b in
                s.file("doc.txt") == "mine" && b.read("doc.txt") == "mine" && Self.copies(s.listing(), of: "doc").isEmpty
            }, "edit/delete")
        }
    }

    func testDeleteHereAgainstEditThereKeepsTheEdit() async throws {
        for way in Return.allCases {
            try await scenario(way, { s, b in
                _ = try s.upload("doc.txt", "theirs", headers: [("X-Client-Id", "carol")])
                try FileManager.default.removeItem(atPath: b.path("doc.txt"))
            }, expect: { s, b in
                s.file("doc.txt") == "theirs" && b.read("doc.txt") == "theirs"
            }, "delete/edit")
        }
    }

    func testAFileHereAgainstADirectoryThereKeepsBoth() async throws {
        for way in Return.allCases {
            try await scenario(way, { s, b in
                _ = try s.upload("thing/inside.txt", "theirs", headers: [("X-Client-Id", "carol")])
                try b.write("thing", "mine")
            }, expect: { s, b in
                let copies = Self.copies(s.listing(), of: "thing")
                return copies.count == 1 && s.file("thing/inside.txt") == "theirs" && b.read("thing/inside.txt") == "theirs"
                    && s.file(copies[0]) == "mine" && b.read(copies[0]) == "mine"
            }, "file/directory")
        }
    }

    func testADirectoryHereAgainstAFileThereKeepsBoth() async throws {
        for way in Return.allCases {
            try await scenario(way, { s, b in
                _ = try s.upload("thing", "theirs", headers: [("X-Client-Id", "carol")])
                try b.write("thing/mine.txt", "mine")
            }, expect: { s, b in
                let copies = Self.copies(s.listing(), of: "thing").filter { !$0.contains("/") }
                return copies.count == 1 && s.file("thing") == "theirs" && b.read("thing") == "theirs"
                    && s.file(copies[0] + "/mine.txt") == "mine" && b.read(copies[0] + "/mine.txt") == "mine"
            }, "directory/file")
        }
    }
}
