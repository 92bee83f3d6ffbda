import Foundation
import Quantum
import XCTest

/// `hide`: a bare name (or glob) hides that name anywhere, a path hides that file or folder
/// and what is below it; hidden files look missing. The config file is hidden by default.
final class HideTests: FileServerTestCase {
    override func setUp() async throws {
        try await super.setUp()
        try tree.file("public.txt", "public")
        try tree.file(".env", "SECRET=1")
        try tree.file("app/.env", "SECRET=2")
        try tree.file("app/main.js", "main")
        try tree.file("private/keys.txt", "keys")
        try tree.file("private/deeper/more.txt", "more")
        try tree.file("privateer.txt", "not private")
        try tree.file("logs/today.log", "log")
        try tree.file("today.log", "log at the top")
        try tree.file("notes.md", "notes")
    }

    func testBareNameHidesItAnywhere() async throws {
        try await serve(#""hide": [".env"], "browse": {}"#)
        XCTAssertEqual(get("/.env").status, 404)
        XCTAssertEqual(get("/app/.env").status, 404)
        XCTAssertEqual(get("/app/main.js").text, "main")
        XCTAssertFalse(get("/app/", ["-H", "Accept: application/json"]).text.contains(".env"))
        XCTAssertFalse(get("/").text.contains(".env"))
    }

    func testBareNameHidesAFolderAndItsContent() async throws {
        try await serve(#""hide": ["private"]"#)
        XCTAssertEqual(get("/private/keys.txt").status, 404)
        XCTAssertEqual(get("/private/deeper/more.txt").status, 404)
        XCTAssertEqual(get("/private").status, 404, "no redirect to the hidden folder either")
        XCTAssertEqual(get("/privateer.txt").text, "not private", "a name, not a prefix")
    }

    func testPathHidesThatSubtreeOnly() async throws {
        try tree.file("app/private/x.txt", "a different private")
        try await serve(#""hide": [\#(Self.jsonString(tree.root + "/private"))], "browse": {}"#)
        XCTAssertEqual(get("/private/keys.txt").status, 404)
        XCTAssertEqual(get("/private/deeper/more.txt").status, 404)
        XCTAssertEqual(get("/private/").status, 404)
        XCTAssertEqual(get("/privateer.txt").text, "not private")
        XCTAssertEqual(get("/app/private/x.txt").text, "a different private", "only that path")
        XCTAssertFalse(get("/", ["-H", "Accept: application/json"]).text.contains("\"private/\""))
    }

    func testGlobs() async throws {
        try await serve(#""hide": ["*.log", \#(Self.jsonString(tree.root + "/*.md"))]"#)
        XCTAssertEqual(get("/today.log").status, 404)
        XCTAssertEqual(get("/logs/today.log").status, 404, "a bare glob matches names anywhere")
        XCTAssertEqual(get("/notes.md").status, 404)
        XCTAssertEqual(get("/public.txt").text, "public")
    }

    func testHiddenLooksExactlyLikeMissing() async throws {
        try await serve(#""hide": [".env"], "pass_thru": true"#, after: [#"{"handle": [{"handler": "static_response", "body": "next"}]}"#])
        XCTAssertEqual(get("/.env").text, "next", "pass_thru applies to hidden files as to missing ones")
    }

    func testHiddenIndexFileIsNotUsed() async throws {
        try tree.file("site/index.html", "secret index")
        try tree.file("site/page.html", "page")
        try await serve(#""hide": ["index.html"], "browse": {}"#)
        let listing = get("/site/")
        XCTAssertEqual(listing.status, 200)
        XCTAssertFalse(listing.text.contains("secret index"))
        XCTAssertTrue(listing.text.contains("page.html"))
        XCTAssertFalse(listing.text.contains("index.html"))
    }

    func testRelativePathsAreFromTheWorkingDirectory() async throws {
        // Caddy: hide paths are file system paths, relative to the working directory (not the root).
        let json = #"""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [
          {"handler": "file_server", "root": "root", "hide": ["root/private", "./root/today.log"]}]}]}}}}}
        """#
        let loaded = try ConfigLoader.load(json: Array(json.utf8), registry: StandardModules.registry, workingDirectory: tree.base)
        try await withApp(loaded) { port in
            XCTAssertEqual(Self.curl(port, "/public.txt").text, "public", "root relative to the working directory")
            XCTAssertEqual(Self.curl(port, "/private/keys.txt").status, 404)
            XCTAssertEqual(Self.curl(port, "/today.log").status, 404)
            XCTAssertEqual(Self.curl(port, "/logs/today.log").text, "log")
        }
    }

    // MARK: The config file

    func testConfigFileInsideTheRootIsHidden() async throws {
        let json = #"""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [
          {"handler": "file_server", "root": \#(Self.jsonString(tree.root)), "browse": {}}]}]}}}}}
        """#
        try tree.file("quantum.json", json)
        let loaded = try ConfigLoader.load(json: Array(json.utf8), registry: StandardModules.registry,
                                           workingDirectory: tree.root, configFile: "quantum.json")
        try await withApp(loaded) { port in
            XCTAssertEqual(Self.curl(port, "/quantum.json").status, 404)
            XCTAssertEqual(Self.curl(port, "/public.txt").text, "public")
            let listing = Self.curl(port, "/", ["-H", "Accept: application/json"]).text
            XCTAssertFalse(listing.contains("quantum.json"), listing)
            XCTAssertTrue(listing.contains("public.txt"), listing)
        }
    }

    func testConfigFileGivenByAbsolutePath() async throws {
        let json = #"""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [
          {"handler": "file_server", "root": \#(Self.jsonString(tree.root)), "hide": [".env"]}]}]}}}}}
        """#
        let path = try tree.file("conf/site.json", json)
        let loaded = try ConfigLoader.load(json: Array(json.utf8), registry: StandardModules.registry,
                                           workingDirectory: "/", configFile: path)
        try await withApp(loaded) { port in
            XCTAssertEqual(Self.curl(port, "/conf/site.json").status, 404, "hidden in addition to the hide list")
            XCTAssertEqual(Self.curl(port, "/.env").status, 404)
            XCTAssertEqual(Self.curl(port, "/public.txt").text, "public")
        }
    }

    /// Runs `body` against an app started from a config loaded here (not through TestServer).
    func withApp(_ loaded: LoadedConfig, _ body: (Int) throws -> Void) async throws {
        let group = try EventLoopGroup(loopCount: 1)
        let app: App
        do { app = try await App.start(loaded, on: group) } catch { group.shutdown(); throw error }
        let port = try XCTUnwrap(app.servers.first?.listeners.first?.port)
        var failure: (any Error)?
        do { try body(port) } catch { failure = error }
        await app.stop(graceNanos: 1_000_000_000)
        group.shutdown()
        if let failure { throw failure }
    }
}
