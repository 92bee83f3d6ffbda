import Foundation
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// Root confinement: a corpus of hostile paths, sent with `curl --path-as-is` and as raw request
/// lines, must give 404 or 400 — and never the canary that sits next to the root.
final class TraversalTests: FileServerTestCase {
    override func setUp() async throws {
        try await super.setUp()
        try tree.file("index.html", "<h1>home</h1>")
        try tree.file("hello.txt", "hello")
        try tree.file("sub/page.txt", "page")
        // Symlinks: one inside the root (fine), several pointing out of it.
        try tree.symlink("inside-link.txt", to: "hello.txt")
        try tree.symlink("sub/up-link.txt", to: "../hello.txt")
        try tree.symlink("escape.txt", to: "../outside/secret.txt")
        try tree.symlink("escape-abs.txt", to: tree.outside + "/secret.txt")
        try tree.symlink("escape-dir", to: "../outside")
        try tree.symlink("inside-abs.txt", to: tree.root + "/hello.txt")
        // A sibling whose name starts with the root's name: "root-evil" is not inside "root".
        try FileManager.default.createDirectory(atPath: tree.base + "/root-evil", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: tree.base + "/root-evil/secret.txt", contents: Data(SiteTree.canary.utf8)))
        try tree.symlink("evil", to: "../root-evil")
        try await serve(#""browse": {}"#)
    }

    /// Paths relative to nothing in particular: they aim at `outside/secret.txt` next to the root.
    static let corpus = [
        "/../outside/secret.txt", "/../../outside/secret.txt", "/sub/../../outside/secret.txt",
        "/%2e%2e/outside/secret.txt", "/%2E%2E/outside/secret.txt", "/.%2e/outside/secret.txt",
        "/%2e%2e%2foutside%2fsecret.txt", "/%2E%2E%2Foutside%2Fsecret.txt", "/..%2foutside/secret.txt",
        "/%2f../outside/secret.txt", "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/%252e%252e/outside/secret.txt",  // double encoding is decoded once: a literal "%2e%2e" folder
        "/..\\outside\\secret.txt", "/..%5coutside%5csecret.txt", "/sub\\..\\..\\outside\\secret.txt",
        "/%00/../outside/secret.txt", "/hello.txt%00", "/%00", "/outside/secret.txt%00.html",
        "/%c0%ae%c0%ae/outside/secret.txt", "/%c0%ae%c0%ae%c0%afoutside%c0%afsecret.txt", "/%e0%80%ae%e0%80%ae/outside/secret.txt",
        "/%ff/secret.txt", "/%zz/../outside/secret.txt", "/%",
        "//outside/secret.txt", "///../outside/secret.txt",
        "/escape.txt", "/escape-abs.txt", "/escape-dir/secret.txt", "/escape-dir/", "/evil/secret.txt", "/evil/",
        "/sub/..%2f..%2fescape-dir/secret.txt",
    ]

    func testCorpusWithCurl() {
        for path in Self.corpus {
            let r = get(path)
            XCTAssertTrue(r.status == 404 || r.status == 400, "\(path) → \(r.status)")
            XCTAssertFalse(r.text.contains(SiteTree.canary), "\(path) leaked the canary")
        }
    }

    func testAbsolutePathsAreUnderTheRoot() {
        // "/tmp/.../outside/secret.txt" is a request path, so it means root + that path.
        for path in [tree.outside + "/secret.txt", "/" + tree.outside + "/secret.txt", "/etc/passwd"] {
            let r = get(path)
            XCTAssertEqual(r.status, 404, path)
            XCTAssertFalse(r.text.contains(SiteTree.canary), path)
            XCTAssertFalse(r.text.contains("root:"), path)
        }
    }

    /// One raw request line; returns the parsed response (nil when the server just closed).
    func raw(_ target: String) throws -> HTTPTestResponse? {
        let client = try RawClient(port: port)
        client.send("GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return client.readResponse()
    }

    func testCorpusAsRawRequestLines() throws {
        let extra = [
            "/../outside/secret.txt", "/..\\..\\outside\\secret.txt", "\\..\\outside\\secret.txt",
            "..%2foutside%2fsecret.txt", "../outside/secret.txt", "/./../outside/secret.txt",
            "http://x/../outside/secret.txt", "http://x/%2e%2e/outside/secret.txt",
        ]
        for target in Self.corpus + extra {
            let r = try XCTUnwrap(try raw(target), "\(target): no answer")
            XCTAssertTrue([400, 404].contains(r.status), "\(target) → \(r.status)")
            XCTAssertFalse(r.bodyText.contains(SiteTree.canary), "\(target) leaked the canary")
        }
    }

    func testSymlinksInsideTheRootAreServed() {
        XCTAssertEqual(get("/inside-link.txt").text, "hello")
        XCTAssertEqual(get("/sub/up-link.txt").text, "hello")
        XCTAssertEqual(get("/inside-abs.txt").text, "hello", "an absolute link that points inside the root")
    }

    func testListingsDoNotFollowLinksOut() {
        // The links may be listed (they are entries of the folder), but nothing behind them is.
        let listing = get("/", ["-H", "Accept: application/json"])
        XCTAssertEqual(listing.status, 200)
        XCTAssertFalse(listing.text.contains(SiteTree.canary))
        XCTAssertEqual(get("/escape-dir/", ["-H", "Accept: application/json"]).status, 404)
    }

    /// The corpus and the links again through `ConfinedRoot`'s component walk (kernels without
    /// openat2), on a fresh server: the file cache would answer from the first pass.
    func testEverythingAgainThroughTheComponentWalk() async throws {
        ConfinedRoot.forceWalk.store(true, ordering: .relaxed)
        defer { ConfinedRoot.forceWalk.store(false, ordering: .relaxed) }
        await server?.stop()
        try await serve(#""browse": {}"#)
        testCorpusWithCurl()
        try testCorpusAsRawRequestLines()
        testSymlinksInsideTheRootAreServed()
        testListingsDoNotFollowLinksOut()
        testNothingOutsideEverComesBack()
    }

    func testHarmlessOddSpellingsStillWork() {
        // Cleaning must not break legitimate paths.
        XCTAssertEqual(get("/sub/../hello.txt").text, "hello")
        XCTAssertEqual(get("/./hello.txt").text, "hello")
        XCTAssertEqual(get("//hello.txt").text, "hello")
        XCTAssertEqual(get("/sub//page.txt").text, "page")
        XCTAssertEqual(get("/hell%6f.txt").text, "hello")
        XCTAssertEqual(get("/sub%2fpage.txt").text, "page", "an encoded slash is a slash on disk")
    }

    func testOverlongNamesAreJustMissing() {
        // Longer than NAME_MAX, and a path of thousands of bytes: 404 (Caddy answers 500).
        let longName = "/" + String(repeating: "a", count: 300)
        let longPath = "/" + Array(repeating: "abcdefgh", count: 600).joined(separator: "/")
        for path in [longName, longPath, longPath + "/../../outside/secret.txt"] {
            XCTAssertEqual(get(path).status, 404, String(path.prefix(40)))
        }
        XCTAssertEqual(get("/hello.txt").text, "hello")
    }

    func testNothingOutsideEverComesBack() {
        // Belt and braces: the canary's own name, every way we can think of.
        for path in ["/secret.txt", "/outside/secret.txt", "/root/../outside/secret.txt", "/../root/../outside/secret.txt"] {
            let r = get(path)
            XCTAssertEqual(r.status, 404, path)
            XCTAssertFalse(r.text.contains(SiteTree.canary), path)
        }
    }
}

