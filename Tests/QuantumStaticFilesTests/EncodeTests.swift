import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The `encode` handler, checked by decompressing with the real gzip/zstd/brotli tools.
final class EncodeTests: XCTestCase {
    var root = ""
    let text = String(repeating: "Quantum compresses this line of text.\n", count: 400)

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "quantum-encode-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try text.write(toFile: root + "/big.txt", atomically: true, encoding: .utf8)
        try "tiny".write(toFile: root + "/tiny.txt", atomically: true, encoding: .utf8)
        try Data(repeating: 7, count: 4000).write(to: URL(fileURLWithPath: root + "/blob.bin"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func start(_ encodeFields: String = #""encodings": {"gzip": {}, "zstd": {}, "br": {}}"#) async throws -> TestServer {
        try await TestServer.start(routes: """
        [{"match": [{"path": ["/stream"]}],
          "handle": [{"handler": "encode", \(encodeFields)}, {"handler": "test_stream_text"}]},
         {"handle": [{"handler": "encode", \(encodeFields)}, {"handler": "file_server", "root": "\(root)"}]}]
        """, registry: {
            var r = StandardModules.registry
            r.register(StreamText.self)
            return r
        }())
    }

    /// GETs `path` with `Accept-Encoding`, returns (headers, decoded body) using `tool -dc`.
    func fetch(_ port: Int, _ path: String, accept: String) throws -> (String, String) {
        let out = NSTemporaryDirectory() + "quantum-encode-out-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let headers = runProcess("curl", ["-s", "-D", "-", "-o", out, "-H", "Accept-Encoding: \(accept)", "http://127.0.0.1:\(port)\(path)"]).output
        let encoding = headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-encoding:") }.map { String($0.split(separator: " ").last ?? "") }
        let tool: String? = switch encoding { case "gzip": "gzip"; case "zstd": "zstd"; case "br": "brotli"; default: nil }
        guard let tool else { return (headers, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "") }
        try XCTSkipIf(runProcess(tool, ["--version"]).status != 0 && runProcess(tool, ["-V"]).status != 0, "\(tool) not installed")
        return (headers, runProcess(tool, ["-dc", out]).output)
    }

    /// A client that half-closes after its request (as `nc -N` does) still gets a compressed
    /// file read from disk in pieces: its FIN stops only work done for a client that left
    /// (an upstream exchange), not an answer being made for it.
    func testHalfClosedClientStillGetsItsEncodedFile() async throws {
        let large = String(repeating: "A line of a file too large to be read in one go.\n", count: 4000)
        try large.write(toFile: root + "/large.txt", atomically: true, encoding: .utf8)
        let server = try await start()
        defer { Task { await server.stop() } }
        for _ in 0..<3 {
            let client = try RawClient(port: server.port)
            client.send("GET /large.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
            client.shutdownWrite()
            let response = try XCTUnwrap(client.readResponse())
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.header("content-encoding"), "gzip")
            XCTAssertGreaterThan(response.body.count, 100)
        }
    }

    func testEachEncodingRoundTrips() async throws {
        let server = try await start()
        for encoding in ["gzip", "zstd", "br"] {
            let (headers, body) = try fetch(server.port, "/big.txt", accept: encoding)
            XCTAssertTrue(headers.contains("Content-Encoding: \(encoding)"), headers)
            XCTAssertTrue(headers.contains("Vary: Accept-Encoding"), headers)
            XCTAssertFalse(headers.contains("Content-Length: \(text.utf8.count)"), "the identity length is dropped: \(headers)")
            XCTAssertTrue(headers.contains("-\(encoding)\"\r\n"), "ETag marked with the encoding: \(headers)")
            XCTAssertEqual(body, text)
        }
        await server.stop()
    }

    func testClientPreferenceThenPreferOrder() async throws {
        let server = try await start(#""encodings": {"gzip": {}, "zstd": {}}, "prefer": ["zstd", "gzip"]"#)
        XCTAssertTrue(try fetch(server.port, "/big.txt", accept: "gzip, zstd").0.contains("Content-Encoding: zstd"))
        XCTAssertTrue(try fetch(server.port, "/big.txt", accept: "gzip;q=1, zstd;q=0.5").0.contains("Content-Encoding: gzip"))
        XCTAssertFalse(try fetch(server.port, "/big.txt", accept: "identity").0.contains("Content-Encoding"))
        XCTAssertFalse(try fetch(server.port, "/big.txt", accept: "gzip;q=0").0.contains("Content-Encoding"))
        await server.stop()
    }

    func testWhatIsNeverEncoded() async throws {
        let server = try await start()
        XCTAssertFalse(try fetch(server.port, "/tiny.txt", accept: "gzip").0.contains("Content-Encoding"), "below minimum_length")
        XCTAssertFalse(try fetch(server.port, "/blob.bin", accept: "gzip").0.contains("Content-Encoding"), "no compressible type")
        let range = runProcess("curl", ["-s", "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", "-H", "Range: bytes=0-9",
                                        "http://127.0.0.1:\(server.port)/big.txt"]).output
        XCTAssertTrue(range.hasPrefix("HTTP/1.1 206"), range)
        XCTAssertFalse(range.contains("Content-Encoding"), range)
        await server.stop()
    }

    /// A HEAD's head is its GET's: the same encoding, ETag and length (Caddy 2.6.2 answers a HEAD
    /// with the length of an empty gzip stream, 20, where its GET has the real one).
    func testAHeadGetsTheHeadItsGetWould() async throws {
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "encode", "encodings": {"gzip": {}}}, "#
            + #"{"handler": "static_response", "headers": {"Content-Type": ["text/plain"]}, "body": "\#(String(repeating: "compress me ", count: 200))"}]}]"#)
        func fields(_ head: Bool, _ path: String, _ port: Int) -> [String: String] {
            let raw = runProcess("curl", ["-s", head ? "-I" : "-D-", "-o", head ? "/dev/stdout" : "/dev/null", "-H", "Accept-Encoding: gzip",
                                          "http://127.0.0.1:\(port)\(path)"]).output
            var out: [String: String] = [:]
            for line in raw.split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                out[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return out
        }
        // In memory (static_response): the exact compressed length.
        let get = fields(false, "/", server.port), head = fields(true, "/", server.port)
        XCTAssertEqual(get["content-encoding"], "gzip")
        XCTAssertEqual(head["content-encoding"], "gzip")
        XCTAssertNotNil(get["content-length"])
        XCTAssertEqual(head["content-length"], get["content-length"])
        XCTAssertEqual(head["vary"], get["vary"])
        await server.stop()
        // Files, small (read into memory) and large (streamed through the compressor): the same
        // encoding, ETag and length as the GET (none for the streamed one: it goes chunked).
        let large = String(repeating: "a line of a larger file that is streamed through gzip\n", count: 40_000)
        try large.write(toFile: root + "/large.txt", atomically: true, encoding: .utf8)
        let files = try await start()
        for path in ["/big.txt", "/large.txt"] {
            let fileGet = fields(false, path, files.port), fileHead = fields(true, path, files.port)
            XCTAssertEqual(fileHead["content-encoding"], "gzip", path)
            XCTAssertEqual(fileHead["etag"], fileGet["etag"], path)
            XCTAssertTrue(fileHead["etag"]?.hasSuffix("-gzip\"") == true, "\(path): \(fileHead)")
            XCTAssertEqual(fileHead["content-length"], fileGet["content-length"], path)
        }
        XCTAssertEqual(fields(false, "/large.txt", files.port)["transfer-encoding"], "chunked")
        await files.stop()
    }

    func testEncodedETagRevalidates() async throws {
        let server = try await start()
        let headers = try fetch(server.port, "/big.txt", accept: "gzip").0
        let etag = try XCTUnwrap(headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }).split(separator: " ").last!
        let again = runProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Accept-Encoding: gzip",
                                        "-H", "If-None-Match: \(etag)", "http://127.0.0.1:\(server.port)/big.txt"]).output
        XCTAssertEqual(again, "304")
        await server.stop()
    }

    func testStreamedBodyOfUnknownLengthIsCompressedAsItFlows() async throws {
        let server = try await start()
        let (headers, body) = try fetch(server.port, "/stream", accept: "gzip")
        XCTAssertTrue(headers.contains("Transfer-Encoding: chunked"), headers)
        XCTAssertTrue(headers.contains("Content-Encoding: gzip"), headers)
        XCTAssertEqual(body, (0..<50).map { "event \($0)\n" }.joined())
        await server.stop()
    }

    func testUnknownEncodingIsAConfigError() {
        XCTAssertThrowsError(try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "routes": [{"handle": [{"handler": "encode", "encodings": {"lzma": {}}}]}]}}}}}
        """, registry: StandardModules.registry)) { XCTAssertTrue("\($0)".contains("unknown encoding \"lzma\""), "\($0)") }
    }
}

/// Streams 50 text lines without a length.
private struct StreamText: HandlerModule {
    static let moduleID = "http.handlers.test_stream_text"
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        var r = Response(status: 200, body: .stream(length: nil) { writer in
            for i in 0..<50 { try await writer.write(Array("event \(i)\n".utf8)) }
        })
        r.headers.add("Content-Type", "text/plain; charset=utf-8")
        return r
    }
}
