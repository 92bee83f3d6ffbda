import XCTest

/// RFC 9110 §13 conditional requests against a file's ETag and Last-Modified, in the order
/// Go's `http.ServeContent` (and so Caddy) evaluates them.
final class ConditionalRequestTests: FileServerTestCase {
    let text = "A file that clients cache.\n"
    var etag = ""
    var modified = ""

    override func setUp() async throws {
        try await super.setUp()
        try tree.file("page.html", text)
        tree.touch("page.html", epochSeconds: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        etag = tree.etag("page.html")
        modified = tree.lastModified("page.html")
        XCTAssertEqual(modified, "Tue, 14 Nov 2023 22:13:20 GMT")
        try await serve()
    }

    /// A 304: no body, no Content-Type, the validator still there.
    func assertNotModified(_ r: CurlResponse, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 304, message, file: file, line: line)
        XCTAssertEqual(r.body, [], message, file: file, line: line)
        XCTAssertNil(r.header("Content-Type"), message, file: file, line: line)
        XCTAssertEqual(r.header("ETag"), etag, message, file: file, line: line)
    }

    func assertFull(_ r: CurlResponse, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 200, message, file: file, line: line)
        XCTAssertEqual(r.text, text, message, file: file, line: line)
    }

    func testValidatorsAreWhatStatSays() {
        let r = get("/page.html")
        XCTAssertEqual(r.header("ETag"), etag)
        XCTAssertEqual(r.header("Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT")
    }

    // MARK: If-None-Match

    func testIfNoneMatchExact() {
        assertNotModified(get("/page.html", ["-H", "If-None-Match: \(etag)"]), "exact")
    }

    func testIfNoneMatchComparesWeakly() {
        assertNotModified(get("/page.html", ["-H", "If-None-Match: W/\(etag)"]), "W/ form")
    }

    func testIfNoneMatchList() {
        assertNotModified(get("/page.html", ["-H", "If-None-Match: \"other\", \(etag), \"more\""]), "list")
        assertNotModified(get("/page.html", ["-H", "If-None-Match: \"other\"", "-H", "If-None-Match: \(etag)"]), "two fields")
    }

    func testIfNoneMatchStar() {
        assertNotModified(get("/page.html", ["-H", "If-None-Match: *"]), "*")
    }

    func testIfNoneMatchMismatchServesTheFile() {
        assertFull(get("/page.html", ["-H", "If-None-Match: \"stale\""]), "other tag")
        // The tag without its quotes is a different tag.
        assertFull(get("/page.html", ["-H", "If-None-Match: \(etag.dropFirst().dropLast())"]), "unquoted")
    }

    func testIfNoneMatchWinsOverIfModifiedSince() {
        // A changed tag means changed content, whatever the date says.
        assertFull(get("/page.html", ["-H", "If-None-Match: \"stale\"", "-H", "If-Modified-Since: \(modified)"]), "INM first")
    }

    // MARK: If-Modified-Since

    func testIfModifiedSinceAtOrAfterTheMtime() {
        assertNotModified(get("/page.html", ["-H", "If-Modified-Since: \(modified)"]), "same second")
        assertNotModified(get("/page.html", ["-H", "If-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT"]), "later")
    }

    func testIfModifiedSinceBeforeTheMtime() {
        assertFull(get("/page.html", ["-H", "If-Modified-Since: Tue, 14 Nov 2023 22:13:19 GMT"]), "a second earlier")
    }

    func testIfModifiedSinceThatIsNotADateIsIgnored() {
        assertFull(get("/page.html", ["-H", "If-Modified-Since: yesterday"]), "garbage")
    }

    // MARK: If-Match and If-Unmodified-Since

    func testIfMatchMismatchIs412() {
        let r = get("/page.html", ["-H", "If-Match: \"stale\""])
        XCTAssertEqual(r.status, 412)
        XCTAssertFalse(r.text.contains("cache"))
    }

    func testIfMatchComparesStrongly() {
        XCTAssertEqual(get("/page.html", ["-H", "If-Match: W/\(etag)"]).status, 412)
    }

    func testIfMatchMatchingOrStar() {
        assertFull(get("/page.html", ["-H", "If-Match: \(etag)"]), "exact")
        assertFull(get("/page.html", ["-H", "If-Match: \"a\", \(etag)"]), "list")
        assertFull(get("/page.html", ["-H", "If-Match: *"]), "*")
    }

    func testIfUnmodifiedSinceInThePastIs412() {
        XCTAssertEqual(get("/page.html", ["-H", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT"]).status, 412)
    }

    func testIfUnmodifiedSinceAtOrAfterTheMtime() {
        assertFull(get("/page.html", ["-H", "If-Unmodified-Since: \(modified)"]), "same second")
        assertFull(get("/page.html", ["-H", "If-Unmodified-Since: Fri, 01 Jan 2100 00:00:00 GMT"]), "future")
    }

    func testIfMatchWinsOverIfUnmodifiedSince() {
        // RFC 9110 §13.2.2: If-Unmodified-Since is only looked at without If-Match.
        assertFull(get("/page.html", ["-H", "If-Match: \(etag)", "-H", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT"]), "IM first")
    }

    // MARK: HEAD

    func testHeadVariants() {
        let notModified = head("/page.html", ["-H", "If-None-Match: \(etag)"])
        XCTAssertEqual(notModified.status, 304)
        XCTAssertNil(notModified.header("Content-Type"))
        XCTAssertEqual(head("/page.html", ["-H", "If-Modified-Since: \(modified)"]).status, 304)
        XCTAssertEqual(head("/page.html", ["-H", "If-Match: \"stale\""]).status, 412)
        XCTAssertEqual(head("/page.html", ["-H", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT"]).status, 412)
        let fresh = head("/page.html", ["-H", "If-None-Match: \"stale\""])
        XCTAssertEqual(fresh.status, 200)
        XCTAssertEqual(fresh.header("Content-Length"), String(text.utf8.count))
    }

    // MARK: The validators follow the file

    func testAChangedFileNoLongerMatches() async throws {
        let old = etag
        try tree.file("page.html", text + "more\n")
        tree.touch("page.html", epochSeconds: 1_700_000_100)
        // The server may trust what it saw for up to a second (see CacheFreshnessTests).
        try await Task.sleep(nanoseconds: 1_200_000_000)
        let r = get("/page.html", ["-H", "If-None-Match: \(old)"])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("ETag"), tree.etag("page.html"))
        XCTAssertNotEqual(r.header("ETag"), old)
    }
}
