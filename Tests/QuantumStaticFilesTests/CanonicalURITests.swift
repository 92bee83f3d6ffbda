import QuantumTestSupport
import XCTest

/// Directories: index files, and `canonical_uris` redirects (308) — a directory gets its
/// trailing slash, a file loses it; the query is kept. An index file asked for by name is served.
final class CanonicalURITests: FileServerTestCase {
    override func setUp() async throws {
        try await super.setUp()
        try tree.file("index.html", "<h1>home</h1>")
        try tree.file("hello.txt", "hello")
        try tree.file("docs/index.html", "<h1>docs</h1>")
        try tree.file("notes/index.txt", "notes index")
        try tree.file("empty/readme.md", "no index here")
        try tree.file("custom/home.htm", "custom home")
        try tree.file("custom/index.html", "not an index for this server")
    }

    func assertRedirect(_ path: String, to location: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = get(path)
        XCTAssertEqual(r.status, 308, path, file: file, line: line)
        XCTAssertEqual(r.header("Location"), location, path, file: file, line: line)
    }

    func testDirectoryServesItsIndex() async throws {
        try await serve()
        XCTAssertEqual(get("/").text, "<h1>home</h1>")
        let docs = get("/docs/")
        XCTAssertEqual(docs.status, 200)
        XCTAssertEqual(docs.text, "<h1>docs</h1>")
        XCTAssertEqual(docs.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertEqual(docs.header("ETag"), tree.etag("docs/index.html"))
        XCTAssertEqual(get("/notes/").text, "notes index", "index.txt is the second default index name")
    }

    func testDirectoryWithoutSlashRedirects() async throws {
        try await serve()
        assertRedirect("/docs", to: "/docs/")
        assertRedirect("/docs?x=1&y=two", to: "/docs/?x=1&y=two")
        assertRedirect("/empty", to: "/empty/")
    }

    /// As Caddy 2.6.2 (checked with Debian's `caddy file-server`): an index file asked for by
    /// name is served, not redirected to its directory.
    func testAnIndexFileAskedForByNameIsServed() async throws {
        try await serve()
        for (path, body) in [("/index.html", "<h1>home</h1>"), ("/docs/index.html", "<h1>docs</h1>"), ("/docs/index.html?lang=en", "<h1>docs</h1>"),
                             ("/notes/index.txt", "notes index"), ("/docs/%69ndex.html", "<h1>docs</h1>")] {
            let r = get(path)
            XCTAssertEqual(r.status, 200, path)
            XCTAssertEqual(r.text, body, path)
        }
    }

    func testFileWithSlashRedirectsWithout() async throws {
        try await serve()
        assertRedirect("/hello.txt/", to: "/hello.txt")
        assertRedirect("/hello.txt/?a=b", to: "/hello.txt?a=b")
    }

    func testRedirectsNeverPointToAnotherHost() async throws {
        try await serve()
        // "//evil.example/" would be a protocol-relative URL.
        for path in ["//docs", "///docs", "//hello.txt/"] {
            let r = get(path)
            XCTAssertEqual(r.status, 308, path)
            let location = r.header("Location") ?? ""
            XCTAssertTrue(location.hasPrefix("/") && !location.hasPrefix("//"), "\(path) → \(location)")
        }
    }

    func testCanonicalURIsOff() async throws {
        try await serve(#""canonical_uris": false"#)
        let dir = get("/docs")
        XCTAssertEqual(dir.status, 200)
        XCTAssertEqual(dir.text, "<h1>docs</h1>")
        XCTAssertEqual(get("/index.html").text, "<h1>home</h1>")
        XCTAssertEqual(get("/hello.txt/").text, "hello")
    }

    func testNoRedirectWhenARewriteChoseThePath() async throws {
        // Caddy #4205: a rewritten request must not be redirected (it would loop).
        server = try await TestServer.start(routes: #"""
        [{"handle": [{"handler": "rewrite", "uri": "/docs/index.html"},
                     {"handler": "file_server", "root": \#(Self.jsonString(tree.root))}]}]
        """#)
        let r = get("/anything")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "<h1>docs</h1>")
    }

    func testCustomIndexNames() async throws {
        try await serve(#""index_names": ["home.htm", "default.htm"]"#)
        XCTAssertEqual(get("/custom/").text, "custom home")
        XCTAssertEqual(get("/docs/").status, 404, "index.html is not an index name here, and no browse")
        XCTAssertEqual(get("/custom/index.html").text, "not an index for this server", "served, not redirected")
        XCTAssertEqual(get("/custom/home.htm").text, "custom home", "an index asked for by name is served too")
    }

    func testDirectoryWithoutIndexOrBrowseIs404() async throws {
        try await serve()
        XCTAssertEqual(get("/empty/").status, 404)
        XCTAssertEqual(get("/empty/readme.md").status, 200)
    }

    func testEmptyIndexNamesNeverServesAnIndex() async throws {
        try await serve(#""index_names": [], "browse": {}"#)
        let r = get("/docs/", ["-H", "Accept: application/json"])
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.text.contains("\"index.html\""), r.text)
    }
}
