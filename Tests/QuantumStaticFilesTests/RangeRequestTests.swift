import XCTest

/// `Range` and `If-Range`: one range → 206 with Content-Range, several → multipart/byteranges,
/// none satisfiable → 416; on a small file (kept in memory) and a large one (read from its fd).
final class RangeRequestTests: FileServerTestCase {
    /// 100 bytes, "A123456789B123456789...J123456789": every ten-byte slice is different.
    let small: [UInt8] = (0..<100).map { (i: Int) -> UInt8 in
        let base: UInt8 = i % 10 == 0 ? 65 : 48  // "A" or "0"
        return base + UInt8(i % 10 == 0 ? i / 10 : i % 10)
    }
    /// 1 MiB + 3 of a repeating 251-byte pattern (prime, so offsets are recognisable).
    let large: [UInt8] = (0..<(1 << 20) + 3).map { (i: Int) -> UInt8 in UInt8(i % 251) }

    override func setUp() async throws {
        try await super.setUp()
        try tree.file("small.txt", bytes: small)
        try tree.file("large.dat", bytes: large)
        try await serve()
    }

    func assertPartial(_ path: String, _ range: String, _ expected: Range<Int>, of content: [UInt8],
                       file: StaticString = #filePath, line: UInt = #line) {
        let r = get(path, ["-H", "Range: \(range)"])
        XCTAssertEqual(r.status, 206, range, file: file, line: line)
        XCTAssertEqual(r.header("Content-Range"), "bytes \(expected.lowerBound)-\(expected.upperBound - 1)/\(content.count)", range, file: file, line: line)
        XCTAssertEqual(r.header("Content-Length"), String(expected.count), range, file: file, line: line)
        XCTAssertTrue(r.body == Array(content[expected]), "\(range): wrong bytes", file: file, line: line)
        XCTAssertNotNil(r.header("ETag"), range, file: file, line: line)
    }

    func testSingleRangesOfASmallFile() {
        assertPartial("/small.txt", "bytes=0-9", 0..<10, of: small)
        assertPartial("/small.txt", "bytes=-5", 95..<100, of: small)
        assertPartial("/small.txt", "bytes=10-", 10..<100, of: small)
        assertPartial("/small.txt", "bytes=42-42", 42..<43, of: small)
        assertPartial("/small.txt", "bytes=90-1000", 90..<100, of: small)  // end clipped to the size
        assertPartial("/small.txt", "bytes=-1000", 0..<100, of: small)  // suffix longer than the file
        XCTAssertEqual(get("/small.txt", ["-H", "Range: bytes=0-9"]).header("Content-Type"), "text/plain; charset=utf-8")
    }

    func testSingleRangesOfALargeFile() {
        assertPartial("/large.dat", "bytes=0-9", 0..<10, of: large)
        assertPartial("/large.dat", "bytes=-5", large.count - 5..<large.count, of: large)
        assertPartial("/large.dat", "bytes=1000000-", 1_000_000..<large.count, of: large)
        assertPartial("/large.dat", "bytes=524288-589823", 524_288..<589_824, of: large)
    }

    func testCurlsRangeOption() {
        let r = get("/small.txt", ["-r", "3-7"])
        XCTAssertEqual(r.status, 206)
        XCTAssertTrue(r.body == Array(small[3..<8]))
    }

    // MARK: Several ranges

    /// The parts of a multipart/byteranges body: each part's headers and bytes.
    func parts(_ r: CurlResponse) throws -> [(headers: [String: String], body: [UInt8])] {
        let type = try XCTUnwrap(r.header("Content-Type"))
        XCTAssertTrue(type.hasPrefix("multipart/byteranges; boundary="), type)
        let boundary = Array(("--" + type.components(separatedBy: "boundary=")[1]).utf8)
        var result: [([String: String], [UInt8])] = []
        var starts: [Int] = []
        var i = 0
        while i + boundary.count <= r.body.count {
            if Array(r.body[i..<i + boundary.count]) == boundary { starts.append(i); i += boundary.count } else { i += 1 }
        }
        XCTAssertGreaterThanOrEqual(starts.count, 2, "no boundaries in \(r.text.prefix(200))")
        XCTAssertEqual(Array(r.body[starts.last!...]), boundary + Array("--\r\n".utf8), "closing delimiter")
        for (a, b) in zip(starts, starts.dropFirst()) {
            var part = Array(r.body[(a + boundary.count)..<b])
            XCTAssertEqual(Array(part.prefix(2)), [13, 10])
            part.removeFirst(2)
            if b != starts.last! || part.suffix(2) == [13, 10] { part.removeLast(2) }  // CRLF before the next delimiter
            let sep = Array("\r\n\r\n".utf8)
            guard let end = (0...(part.count - 4)).first(where: { Array(part[$0..<$0 + 4]) == sep }) else {
                XCTFail("part without a header block"); continue
            }
            var headers: [String: String] = [:]
            for line in String(decoding: part[..<end], as: UTF8.self).components(separatedBy: "\r\n") {
                let kv = line.split(separator: ":", maxSplits: 1)
                if kv.count == 2 { headers[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
            result.append((headers, Array(part[(end + 4)...])))
        }
        return result
    }

    func testSeveralRangesOfASmallFileAreMultipart() throws {
        let r = get("/small.txt", ["-H", "Range: bytes=0-4, 10-14,-3"])
        XCTAssertEqual(r.status, 206)
        XCTAssertNil(r.header("Content-Range"))
        XCTAssertEqual(r.header("Content-Length"), String(r.body.count))
        let p = try parts(r)
        let expected = [0..<5, 10..<15, 97..<100]
        XCTAssertEqual(p.count, expected.count)
        for (part, range) in zip(p, expected) {
            XCTAssertEqual(part.headers["content-range"], "bytes \(range.lowerBound)-\(range.upperBound - 1)/100")
            XCTAssertEqual(part.headers["content-type"], "text/plain; charset=utf-8")
            XCTAssertEqual(part.body, Array(small[range]), "part \(range)")
        }
    }

    func testSeveralRangesOfALargeFileAreMultipart() throws {
        let expected = [0..<100, 300_000..<400_000, large.count - 70_000..<large.count]
        let r = get("/large.dat", ["-H", "Range: bytes=0-99,300000-399999,-70000"])
        XCTAssertEqual(r.status, 206)
        let p = try parts(r)
        XCTAssertEqual(p.count, expected.count)
        for (part, range) in zip(p, expected) {
            XCTAssertEqual(part.headers["content-range"], "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(large.count)")
            XCTAssertNil(part.headers["content-type"], "no type for an unknown extension")
            XCTAssertTrue(part.body == Array(large[range]), "part \(range)")
        }
    }

    func testRangesCoveringMoreThanTheFileGetItWhole() {
        // Like Go's ServeContent: overlapping ranges summing past the size are answered with 200.
        let r = get("/small.txt", ["-H", "Range: bytes=0-,0-"])
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.body == small)
    }

    // MARK: Unsatisfiable and malformed

    func testUnsatisfiableIs416WithTheSize() {
        // `bytes=-0` too (RFC 9110 §14.1.3: a suffix must be non-zero; Go answers it with an empty 206).
        for range in ["bytes=100-", "bytes=1000-2000", "bytes=100-,200-", "bytes=-0"] {
            let r = get("/small.txt", ["-H", "Range: \(range)"])
            XCTAssertEqual(r.status, 416, range)
            XCTAssertEqual(r.header("Content-Range"), "bytes */100", range)
            XCTAssertFalse(r.body == small, range)
        }
        XCTAssertEqual(get("/large.dat", ["-H", "Range: bytes=\(large.count)-"]).header("Content-Range"), "bytes */\(large.count)")
    }

    func testMalformedRangesAre416LikeGo() {
        for range in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=--1"] {
            XCTAssertEqual(get("/small.txt", ["-H", "Range: \(range)"]).status, 416, range)
        }
    }

    func testPreconditionsComeBeforeTheRange() {
        // A Range with a matching If-None-Match is a 304, not a 206.
        let etag = tree.etag("small.txt")
        XCTAssertEqual(get("/small.txt", ["-H", "Range: bytes=0-1", "-H", "If-None-Match: \(etag)"]).status, 304)
    }

    // MARK: If-Range

    func testIfRangeWithTheCurrentETagGivesTheRange() {
        let r = get("/large.dat", ["-H", "Range: bytes=0-9", "-H", "If-Range: \(tree.etag("large.dat"))"])
        XCTAssertEqual(r.status, 206)
        XCTAssertTrue(r.body == Array(large[0..<10]))
    }

    func testIfRangeWithAnotherETagGivesTheWholeFile() {
        let r = get("/small.txt", ["-H", "Range: bytes=0-9", "-H", "If-Range: \"old\""])
        XCTAssertEqual(r.status, 200)
        XCTAssertNil(r.header("Content-Range"))
        XCTAssertTrue(r.body == small)
    }

    func testIfRangeWithAWeakETagGivesTheWholeFile() {
        // If-Range needs a strong comparison (RFC 9110 §13.1.5).
        let r = get("/small.txt", ["-H", "Range: bytes=0-9", "-H", "If-Range: W/\(tree.etag("small.txt"))"])
        XCTAssertEqual(r.status, 200)
    }

    func testIfRangeWithADate() async throws {
        tree.touch("small.txt", epochSeconds: 1_600_000_000)
        // A new server sees the new mtime at once (the file cache belongs to the handler).
        await server?.stop()
        try await serve()
        let lastModified = tree.lastModified("small.txt")
        let hit = get("/small.txt", ["-H", "Range: bytes=0-9", "-H", "If-Range: \(lastModified)"])
        XCTAssertEqual(hit.status, 206)
        let miss = get("/small.txt", ["-H", "Range: bytes=0-9", "-H", "If-Range: Mon, 01 Jan 2001 00:00:00 GMT"])
        XCTAssertEqual(miss.status, 200)
        XCTAssertTrue(miss.body == small)
    }
}
