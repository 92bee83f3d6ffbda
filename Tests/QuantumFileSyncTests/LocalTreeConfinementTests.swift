import Foundation
import Glibc
@testable import QuantumFileSync
import XCTest

/// The sync client's folder: what a server's operation names (`link/x`) is applied beneath the
/// folder, never through a link inside it that points out — a server cannot make the client
/// delete, move over or write what such a link leads to.
final class LocalTreeConfinementTests: XCTestCase {
    var base = ""
    var outside: String { base + "/outside" }
    var tree: LocalTree!

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "quantum-client-links-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: outside + "/sub", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: base + "/folder/docs", withIntermediateDirectories: true)
        try "secret".write(toFile: outside + "/secret.txt", atomically: false, encoding: .utf8)
        try "more".write(toFile: outside + "/sub/more.txt", atomically: false, encoding: .utf8)
        try fm.createSymbolicLink(atPath: base + "/folder/link", withDestinationPath: "../outside")
        try fm.createSymbolicLink(atPath: base + "/folder/in-link", withDestinationPath: "docs")
        tree = try LocalTree(root: base + "/folder")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: base) }

    private func outsideIsIntact() {
        XCTAssertEqual(try? String(contentsOfFile: outside + "/secret.txt", encoding: .utf8), "secret")
        XCTAssertEqual(try? String(contentsOfFile: outside + "/sub/more.txt", encoding: .utf8), "more")
        XCTAssertEqual(try? FileManager.default.contentsOfDirectory(atPath: outside).sorted(), ["secret.txt", "sub"])
    }

    func testOperationsThroughALinkOutOfTheFolderReachNothing() throws {
        try? tree.remove("link/secret.txt")
        try? tree.remove("link/sub")
        XCTAssertThrowsError(try tree.move(from: "link/secret.txt", to: "pulled.txt"))
        XCTAssertThrowsError(try tree.move(from: "docs", to: "link/pushed"))
        XCTAssertThrowsError(try tree.makeDirectory("link/made"))
        let download = try tree.beginDownload()
        try download.write(Array("planted".utf8))
        XCTAssertThrowsError(try tree.place(download, at: "link/planted.txt"))
        XCTAssertNil(tree.entry("link/secret.txt"))
        XCTAssertNil(tree.scan()["link/secret.txt"], "the scan does not follow the link")
        outsideIsIntact()
        // Removing the link removes the link, not what it points to.
        try tree.remove("link")
        XCTAssertFalse(FileManager.default.fileExists(atPath: base + "/folder/link"))
        outsideIsIntact()
    }

    func testLinksInsideTheFolderAreFollowedOnTheWay() throws {
        let download = try tree.beginDownload()
        try download.write(Array("inside".utf8))
        _ = try tree.place(download, at: "in-link/a.txt")
        XCTAssertEqual(try String(contentsOfFile: base + "/folder/docs/a.txt", encoding: .utf8), "inside")
        try tree.makeDirectory("in-link/sub")
        XCTAssertTrue(FileManager.default.fileExists(atPath: base + "/folder/docs/sub"))
    }
}
