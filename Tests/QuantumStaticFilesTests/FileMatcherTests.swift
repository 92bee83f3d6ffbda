import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The `file` matcher: try_files, the policies, split_path and its placeholders.
final class FileMatcherTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "quantum-file-matcher-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/app/assets", withIntermediateDirectories: true)
        try "<spa>".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "small".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        try String(repeating: "x", count: 100).write(toFile: root + "/b.txt", atomically: true, encoding: .utf8)
        try "<?php".write(toFile: root + "/index.php", atomically: true, encoding: .utf8)
        try "js".write(toFile: root + "/app/assets/app.js", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func matcher(_ json: String) throws -> any RequestMatcher {
        let loaded = try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "routes": [{"match": [{"file": \(json)}], "handle": []}]}}}}}
        """, registry: StandardModules.registry)
        return loaded.config.apps.http!.servers["s"]!.routes.routes[0].match.sets[0].matchers[0]
    }

    func check(_ m: any RequestMatcher, _ path: String) throws -> [String: String]? {
        var context = Context()
        guard try m.matches(Request(method: "GET", rawPath: path), context: &context) else { return nil }
        return context.placeholders
    }

    func testSinglePageAppFallback() throws {
        let m = try matcher(#"{"root": "\#(root)", "try_files": ["{http.request.uri.path}", "/index.html"]}"#)
        XCTAssertEqual(try check(m, "/app/assets/app.js")?["http.matchers.file.relative"], "/app/assets/app.js")
        XCTAssertEqual(try check(m, "/some/client/route")?["http.matchers.file.relative"], "/index.html")
        XCTAssertEqual(try check(m, "/a.txt")?["http.matchers.file.absolute"], root + "/a.txt")
        XCTAssertEqual(try check(m, "/a.txt")?["http.matchers.file.type"], "file")
    }

    func testTrailingSlashAsksForADirectory() throws {
        let m = try matcher(#"{"root": "\#(root)", "try_files": ["{http.request.uri.path}/"]}"#)
        XCTAssertEqual(try check(m, "/app")?["http.matchers.file.type"], "directory")
        XCTAssertNil(try check(m, "/a.txt"))
    }

    func testPolicies() throws {
        let files = #"["/a.txt", "/b.txt", "/missing.txt"]"#
        XCTAssertEqual(try check(try matcher(#"{"root": "\#(root)", "try_files": \#(files), "try_policy": "smallest_size"}"#), "/")?["http.matchers.file.relative"], "/a.txt")
        XCTAssertEqual(try check(try matcher(#"{"root": "\#(root)", "try_files": \#(files), "try_policy": "largest_size"}"#), "/")?["http.matchers.file.relative"], "/b.txt")
        let fallback = try matcher(#"{"root": "\#(root)", "try_files": ["/nope", "/also-nope"], "try_policy": "first_exist_fallback"}"#)
        XCTAssertEqual(try check(fallback, "/")?["http.matchers.file.relative"], "/also-nope")
        XCTAssertNil(try check(try matcher(#"{"root": "\#(root)", "try_files": ["/nope"]}"#), "/"))
        XCTAssertThrowsError(try matcher(#"{"try_policy": "random"}"#)) { error in
            XCTAssertTrue("\(error)".contains("unknown try_policy \"random\""), "\(error)")
        }
    }

    func testSplitPathAndRemainder() throws {
        let m = try matcher(#"{"root": "\#(root)", "try_files": ["{http.request.uri.path}"], "split_path": [".PHP"]}"#)
        let found = try check(m, "/index.php/users/42")
        XCTAssertEqual(found?["http.matchers.file.relative"], "/index.php")
        XCTAssertEqual(found?["http.matchers.file.remainder"], "/users/42")
    }

    func testStatusEntryRaisesThatError() throws {
        let m = try matcher(#"{"root": "\#(root)", "try_files": ["/nope", "=404"]}"#)
        XCTAssertThrowsError(try check(m, "/")) { XCTAssertEqual(($0 as? HTTPError)?.status, 404) }
    }

    func testSinglePageAppEndToEnd() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"file": {"root": "\(root)", "try_files": ["{http.request.uri.path}", "/index.html"]}}],
          "handle": [{"handler": "rewrite", "uri": "{http.matchers.file.relative}"},
                     {"handler": "file_server", "root": "\(root)"}]}]
        """)
        let (status, body) = runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/deep/client/route"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(body, "<spa>")
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/app/assets/app.js"]).output, "js")
        await server.stop()
    }
}
