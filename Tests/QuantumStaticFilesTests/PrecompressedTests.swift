import Foundation
import QuantumTestSupport
import XCTest

/// `precompressed`: `.br`/`.zst`/`.gz` sidecars made by the real tools, chosen by
/// Accept-Encoding q-values and `precompressed_order`, with Content-Encoding and Vary;
/// the bodies decompress (with the same tools) to the original.
final class PrecompressedTests: FileServerTestCase {
    let text = (0..<200).map { "line \($0): the quick brown fox jumps over the lazy dog\n" }.joined()
    /// Encoding name → sidecar extension, tool, and its arguments to compress a file next to
    /// itself (keeping it) and to decompress a file to stdout.
    static let tools: [String: (ext: String, tool: String, compress: [String], decompress: [String])] = [
        "gzip": (".gz", "gzip", ["-k", "-9"], ["-dc"]),
        "zstd": (".zst", "zstd", ["-k", "-q", "-19"], ["-dcq"]),
        "br": (".br", "brotli", ["-k"], ["-dc"]),
    ]
    var made: Set<String> = []

    override func setUp() async throws {
        try await super.setUp()
        try tree.file("page.txt", text)
        try tree.file("plain.txt", "no sidecars for this one")
        let path = tree.root + "/page.txt"
        for (encoding, t) in Self.tools where Self.haveTool(t.tool) {
            let status = runProcess(t.tool, t.compress + [path]).status
            XCTAssertEqual(status, 0, "\(t.tool) failed")
            if FileManager.default.fileExists(atPath: path + t.ext) { made.insert(encoding) }
        }
    }

    func requireSidecars(_ encodings: String...) throws {
        for e in encodings { try XCTSkipUnless(made.contains(e), "\(Self.tools[e]!.tool) is not installed") }
    }

    func decompress(_ body: [UInt8], _ encoding: String) throws -> String {
        let t = try XCTUnwrap(Self.tools[encoding])
        let file = tree.base + "/body-\(UUID().uuidString)" + t.ext
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data(body)))
        let result = runProcess(t.tool, t.decompress + [file])
        XCTAssertEqual(result.status, 0, "\(t.tool) could not decompress the body")
        return result.output
    }

    /// GET /page.txt with `acceptEncoding`; checks the response is `expected` (nil: identity).
    func assertServed(_ acceptEncoding: String?, as expected: String?, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = get("/page.txt", acceptEncoding.map { ["-H", "Accept-Encoding: \($0)"] } ?? [])
        let what = acceptEncoding ?? "(none)"
        XCTAssertEqual(r.status, 200, what, file: file, line: line)
        XCTAssertEqual(r.header("Content-Encoding"), expected, what, file: file, line: line)
        XCTAssertEqual(r.header("Vary"), "Accept-Encoding", what, file: file, line: line)
        XCTAssertEqual(r.header("Content-Type"), "text/plain; charset=utf-8", "the type of the original", file: file, line: line)
        XCTAssertEqual(r.header("Content-Length"), String(r.body.count), what, file: file, line: line)
        if let expected {
            let ext = Self.tools[expected]!.ext
            XCTAssertEqual(r.body.count, tree.size("page.txt" + ext), "the sidecar's bytes", file: file, line: line)
            XCTAssertEqual(r.header("ETag"), tree.etag("page.txt" + ext), "the sidecar's validator", file: file, line: line)
            XCTAssertEqual(try decompress(r.body, expected), text, what, file: file, line: line)
        } else {
            XCTAssertEqual(r.text, text, what, file: file, line: line)
            XCTAssertEqual(r.header("ETag"), tree.etag("page.txt"), file: file, line: line)
        }
    }

    func testEachEncodingAlone() async throws {
        try await serve(#""precompressed": {"gzip": {}, "zstd": {}, "br": {}}"#)
        for encoding in made.sorted() { try assertServed(encoding, as: encoding) }
        try XCTSkipIf(made.count < 3, "only \(made.sorted()) could be made")
    }

    func testQValuesDecide() async throws {
        try requireSidecars("gzip", "zstd")
        try await serve(#""precompressed": {"gzip": {}, "zstd": {}}"#)
        try assertServed("gzip;q=1.0, zstd;q=0.5", as: "gzip")
        try assertServed("gzip;q=0.4, zstd;q=0.5", as: "zstd")
        try assertServed("zstd;q=0, gzip", as: "gzip")
        try assertServed("gzip;q=0, zstd;q=0", as: nil)
        try assertServed("identity", as: nil)
        try assertServed("deflate, compress", as: nil)
        try assertServed(nil, as: nil)
    }

    func testPrecompressedOrderBreaksTies() async throws {
        try requireSidecars("gzip", "zstd")
        try await serve(#""precompressed": {"gzip": {}, "zstd": {}}, "precompressed_order": ["gzip", "zstd"]"#)
        try assertServed("zstd, gzip", as: "gzip")
        try assertServed("gzip;q=0.5, zstd", as: "zstd")  // a higher q-value still wins
        await server?.stop()
        try await serve(#""precompressed": {"gzip": {}, "zstd": {}}, "precompressed_order": ["zstd", "gzip"]"#)
        try assertServed("gzip, zstd", as: "zstd")
    }

    func testUnconfiguredEncodingIsNotServed() async throws {
        try requireSidecars("gzip", "zstd")
        try await serve(#""precompressed": {"gzip": {}}"#)
        try assertServed("zstd", as: nil)
        try assertServed("zstd, gzip;q=0.1", as: "gzip")
    }

    func testFileWithoutSidecarIsIdentity() async throws {
        try await serve(#""precompressed": {"gzip": {}, "zstd": {}, "br": {}}"#)
        let r = get("/plain.txt", ["-H", "Accept-Encoding: br, zstd, gzip"])
        XCTAssertEqual(r.text, "no sidecars for this one")
        XCTAssertNil(r.header("Content-Encoding"))
        XCTAssertEqual(r.header("Vary"), "Accept-Encoding", "caches must still key on Accept-Encoding")
    }

    func testSidecarsAreIgnoredWithoutPrecompressed() async throws {
        try requireSidecars("gzip")
        try await serve()
        let r = get("/page.txt", ["-H", "Accept-Encoding: gzip"])
        XCTAssertEqual(r.text, text)
        XCTAssertNil(r.header("Content-Encoding"))
        XCTAssertNil(r.header("Vary"))
        // The sidecar itself is an ordinary file with its own type.
        let gz = get("/page.txt.gz")
        XCTAssertEqual(gz.header("Content-Type"), "application/gzip")
        XCTAssertNil(gz.header("Content-Encoding"))
    }

    func testConditionalAndRangeApplyToTheSidecar() async throws {
        try requireSidecars("gzip")
        try await serve(#""precompressed": {"gzip": {}}"#)
        let gzTag = tree.etag("page.txt.gz")
        let notModified = get("/page.txt", ["-H", "Accept-Encoding: gzip", "-H", "If-None-Match: \(gzTag)"])
        XCTAssertEqual(notModified.status, 304)
        XCTAssertEqual(notModified.header("ETag"), gzTag)
        XCTAssertEqual(notModified.header("Vary"), "Accept-Encoding")
        // The identity ETag does not match the gzip representation.
        XCTAssertEqual(get("/page.txt", ["-H", "Accept-Encoding: gzip", "-H", "If-None-Match: \(tree.etag("page.txt"))"]).status, 200)
        // A range of the encoded bytes, as Caddy does.
        let partial = get("/page.txt", ["-H", "Accept-Encoding: gzip", "-H", "Range: bytes=0-9"])
        XCTAssertEqual(partial.status, 206)
        XCTAssertEqual(partial.header("Content-Encoding"), "gzip")
        XCTAssertEqual(partial.header("Content-Range"), "bytes 0-9/\(tree.size("page.txt.gz"))")
        XCTAssertEqual(partial.body, Array(tree.bytes("page.txt.gz")[0..<10]))
    }

    func testHeadWithEncoding() async throws {
        try requireSidecars("zstd")
        try await serve(#""precompressed": {"zstd": {}}"#)
        let r = head("/page.txt", ["-H", "Accept-Encoding: zstd"])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Content-Encoding"), "zstd")
        XCTAssertEqual(r.header("Content-Length"), String(tree.size("page.txt.zst")))
    }

    func testUnknownEncodingIsAConfigError() async throws {
        do {
            try await serve(#""precompressed": {"deflate": {}}"#)
            XCTFail("deflate is not a precompressed encoding")
        } catch {
            XCTAssertTrue("\(error)".contains("deflate"), "\(error)")
        }
    }
}
