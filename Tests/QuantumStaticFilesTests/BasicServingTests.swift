import Glibc
import QuantumTestSupport
import XCTest

/// Serving one file: headers (type, length, validators), HEAD, other methods, not found,
/// `pass_thru`, `status_code`, and a large file sent from its descriptor.
final class BasicServingTests: FileServerTestCase {
    func testTextFileHasTypeWithCharsetLengthValidatorsAndAcceptRanges() async throws {
        try tree.file("hello.txt", "Hello, Quantum!\n")
        try await serve()
        let r = get("/hello.txt")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "Hello, Quantum!\n")
        XCTAssertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(r.header("Content-Length"), "16")
        XCTAssertEqual(r.header("Last-Modified"), tree.lastModified("hello.txt"))
        XCTAssertEqual(r.header("ETag"), tree.etag("hello.txt"))
        XCTAssertEqual(r.header("Accept-Ranges"), "bytes")
        XCTAssertFalse(r.has("Vary"), "Vary only when precompressed is configured")
    }

    func testETagIsMtimeNanosAndSizeInBase36() async throws {
        try tree.file("a.css", String(repeating: "x", count: 1295))
        try await serve()
        let st = tree.status("a.css")
        let nanos = Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
        let etag = try XCTUnwrap(get("/a.css").header("ETag"))
        // Strong, quoted, and ends with the size: 1295 is "zz" in base 36.
        XCTAssertTrue(etag.hasPrefix("\"") && etag.hasSuffix("zz\"") && !etag.hasPrefix("W/"), etag)
        XCTAssertEqual(etag, "\"" + String(nanos, radix: 36) + "zz\"")
    }

    func testContentTypeComesFromTheExtension() async throws {
        let expected = [
            "page.html": "text/html; charset=utf-8", "style.css": "text/css; charset=utf-8",
            "app.js": "text/javascript; charset=utf-8", "data.json": "application/json",
            "pic.png": "image/png", "photo.JPG": "image/jpeg", "icon.svg": "image/svg+xml",
            "doc.pdf": "application/pdf", "font.woff2": "font/woff2", "mod.wasm": "application/wasm",
            "clip.mp4": "video/mp4", "notes.md": "text/markdown; charset=utf-8",
        ]
        for name in expected.keys { try tree.file(name, "content of \(name)") }
        try await serve()
        for (name, type) in expected {
            XCTAssertEqual(get("/" + name).header("Content-Type"), type, name)
        }
    }

    func testUnknownOrMissingExtensionGetsNoContentType() async throws {
        // Like Caddy: the type comes from the extension only, never from sniffing the content.
        try tree.file("blob.qqq", "<html><body>looks like html</body></html>")
        try tree.file("README", "plain text without an extension")
        try tree.file("dir.d/noext", "x")
        try await serve()
        for path in ["/blob.qqq", "/README", "/dir.d/noext"] {
            let r = get(path)
            XCTAssertEqual(r.status, 200, path)
            XCTAssertNil(r.header("Content-Type"), path)
        }
    }

    func testEmptyFile() async throws {
        try tree.file("empty.txt", "")
        try await serve()
        let r = get("/empty.txt")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Length"), "0")
        XCTAssertEqual(r.body, [])
        XCTAssertEqual(r.header("ETag"), tree.etag("empty.txt"))
    }

    func testHeadHasTheHeadersOfGetAndNoBody() async throws {
        try tree.file("hello.txt", "Hello, Quantum!\n")
        try await serve()
        let r = head("/hello.txt")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Length"), "16")
        XCTAssertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        XCTAssertEqual(r.header("ETag"), tree.etag("hello.txt"))
        XCTAssertEqual(r.header("Last-Modified"), tree.lastModified("hello.txt"))

        // On one connection: if HEAD leaked body bytes, the GET after it would not parse.
        let client = try RawClient(port: port)
        client.send("HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let first = try XCTUnwrap(client.readResponse(isHead: true))
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("Content-Length"), "16")
        let second = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.bodyText, "Hello, Quantum!\n")
    }

    func testOtherMethodsGet405WithAllow() async throws {
        try tree.file("hello.txt", "Hello, Quantum!\n")
        try await serve()
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let r = get("/hello.txt", ["-X", method])
            XCTAssertEqual(r.status, 405, method)
            XCTAssertEqual(r.header("Allow"), "GET, HEAD", method)
            XCTAssertFalse(r.text.contains("Hello"), method)
        }
    }

    func testMissingFileIs404AndErrorRoutesSeeIt() async throws {
        try await serve(errors: #"[{"handle": [{"handler": "static_response", "status_code": "{http.error.status_code}", "body": "custom {http.error.status_code}"}]}]"#)
        let r = get("/nope.txt")
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(r.text, "custom 404")
        XCTAssertEqual(get("/no/such/dir/").status, 404)
    }

    func testErrorRouteCanServeAnErrorPageWithTheErrorStatus() async throws {
        try tree.file("errors/404.html", "<h1>not here</h1>")
        let errorRoutes = #"[{"handle": [{"handler": "rewrite", "uri": "/errors/404.html"}, {"handler": "file_server", "root": \#(Self.jsonString(tree.root))}]}]"#
        try await serve(errors: errorRoutes)
        let r = get("/missing")
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(r.text, "<h1>not here</h1>")
        XCTAssertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        // In error routes any method gets the page (no 405).
        let post = get("/missing", ["-X", "POST"])
        XCTAssertEqual(post.status, 404)
        XCTAssertEqual(post.text, "<h1>not here</h1>")
    }

    func testPassThruCallsTheNextRoute() async throws {
        try tree.file("here.txt", "from disk")
        try await serve(#""pass_thru": true"#, after: [#"{"handle": [{"handler": "static_response", "body": "fallback {http.request.uri.path}"}]}"#])
        XCTAssertEqual(get("/here.txt").text, "from disk")
        let r = get("/elsewhere.txt")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.text, "fallback /elsewhere.txt")
    }

    func testWithoutPassThruTheNextRouteIsNotReached() async throws {
        try await serve(after: [#"{"handle": [{"handler": "static_response", "body": "fallback"}]}"#])
        let r = get("/elsewhere.txt")
        XCTAssertEqual(r.status, 404)
        XCTAssertNotEqual(r.text, "fallback")
    }

    func testStatusCodeOverridesTheSuccessStatus() async throws {
        try tree.file("maintenance.html", "back soon")
        try await serve(#""status_code": 503"#)
        let r = get("/maintenance.html")
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.text, "back soon")
        XCTAssertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
    }

    func testStatusCodeAcceptsAPlaceholder() async throws {
        try tree.file("x.txt", "x")
        try await serve(#""status_code": "{http.request.uri.query.code}""#)
        XCTAssertEqual(get("/x.txt?code=202").status, 202)
    }

    func testLargeFileIsSentWhole() async throws {
        // 5 MiB plus an odd tail: past the in-memory limit, so it goes out from the descriptor.
        var bytes = [UInt8](repeating: 0, count: 5 * 1024 * 1024 + 777)
        var g = SystemRandomNumberGenerator()
        for i in stride(from: 0, to: bytes.count, by: 8) {
            let v = g.next()
            for j in 0..<min(8, bytes.count - i) { bytes[i + j] = UInt8(truncatingIfNeeded: v >> (j * 8)) }
        }
        try tree.file("big.bin", bytes: bytes)
        try await serve()
        let r = get("/big.bin")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Length"), String(bytes.count))
        XCTAssertEqual(r.header("ETag"), tree.etag("big.bin"))
        XCTAssertEqual(r.body.count, bytes.count)
        XCTAssertTrue(r.body == bytes, "large body differs from the file")
        // Twice more: the second and third come from the per-loop cache (same descriptor).
        for _ in 0..<2 { XCTAssertTrue(get("/big.bin").body == bytes) }
        XCTAssertEqual(head("/big.bin").header("Content-Length"), String(bytes.count))
    }

    func testKeepAliveConnectionServesSeveralFiles() async throws {
        try tree.file("a.txt", "AAAA")
        try tree.file("b.txt", "BB")
        try await serve()
        let client = try RawClient(port: port)
        for (path, body) in [("/a.txt", "AAAA"), ("/b.txt", "BB"), ("/a.txt", "AAAA"), ("/missing", "")] {
            client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try XCTUnwrap(client.readResponse(), path)
            XCTAssertEqual(r.bodyText, body, path)
        }
    }

    func testNamesThatNeedEscaping() async throws {
        try tree.file("café.txt", "cafe")
        try tree.file("with space.txt", "spaced")
        try tree.file("a+b.txt", "plus")
        try await serve()
        XCTAssertEqual(get("/caf%C3%A9.txt").text, "cafe")
        XCTAssertEqual(get("/café.txt").text, "cafe", "raw UTF-8 in the request line")
        XCTAssertEqual(get("/with%20space.txt").text, "spaced")
        XCTAssertEqual(get("/a+b.txt").text, "plus", "+ is not a space in a path")
        XCTAssertEqual(get("/a%2Bb.txt").text, "plus")
        XCTAssertEqual(get("/with%20space.txt?v=123&x").text, "spaced", "the query plays no part")
    }

    func testSpecialFilesAreNeverOpened() async throws {
        // A FIFO would block a reader forever: it must look missing, and quickly.
        try tree.file("ok.txt", "ok")
        XCTAssertEqual(mkfifo(tree.root + "/pipe.txt", 0o644), 0)
        try await serve(#""browse": {}"#)
        XCTAssertEqual(get("/pipe.txt").status, 404)
        XCTAssertEqual(get("/ok.txt").text, "ok", "the server is still answering")
        XCTAssertEqual(get("/", ["-H", "Accept: application/json"]).status, 200, "listing a folder with a FIFO")
    }

    func testUnreadableFileIs403() async throws {
        try XCTSkipIf(getuid() == 0, "root reads every file; permissions cannot be tested")
        let path = try tree.file("locked.txt", "secret")
        XCTAssertEqual(chmod(path, 0), 0)
        try await serve()
        XCTAssertEqual(get("/locked.txt").status, 403)
    }
}
