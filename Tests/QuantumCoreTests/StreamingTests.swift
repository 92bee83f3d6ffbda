import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Request and response bodies that stream: chunk-by-chunk reads, 100-continue, chunked and
/// sized response streams, and back-pressure from a client that stops reading.
final class StreamingTests: XCTestCase {
    static let routes = """
    [
      {"match": [{"path": ["/echo"]}], "handle": [{"handler": "test_echo"}]},
      {"match": [{"path": ["/collect"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
      {"match": [{"path": ["/offloop"]}], "handle": [{"handler": "test_echo", "mode": "offloop"}]},
      {"match": [{"path": ["/stream"]}], "handle": [{"handler": "test_stream", "total": 100000, "piece": 7000}]},
      {"match": [{"path": ["/sized"]}], "handle": [{"handler": "test_stream", "total": 100000, "piece": 7000, "declare_length": true}]},
      {"match": [{"path": ["/short"]}], "handle": [{"handler": "test_stream", "total": 100000, "piece": 7000, "declare_length": true, "short_by": 1000}]},
      {"match": [{"path": ["/a"]}], "handle": [{"handler": "static_response", "body": "A"}]}
    ]
    """

    func serve(routes: String = StreamingTests.routes, _ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: routes, registry: coreTestRegistry(), body)
    }

    static func pattern(count: Int, piece: Int) -> [UInt8] {
        (0..<count).map { StreamHandler.expectedByte(at: $0, piece: piece) }
    }

    // MARK: - Request bodies

    func testChunkedUploadIsEchoedChunkByChunk() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            Sock.setNoDelay(client.fd)
            client.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            // The echo of the first chunk arrives while the rest of the body is still unsent.
            var received = Sock.read(client.fd, seconds: 5) { Sock.contains($0, "hello") }
            XCTAssertTrue(Sock.contains(received, "hello"), "first chunk not echoed before the body ended")
            client.send("6;ext=1\r\n world\r\n")
            let afterFirst = received
            received = afterFirst + Sock.read(client.fd, seconds: 5) { Sock.contains(afterFirst + $0, " world") }
            XCTAssertTrue(Sock.contains(received, " world"), "second chunk not echoed before the body ended")
            client.send("0\r\nX-Trailer: t\r\n\r\n")
            let afterSecond = received
            received = afterSecond + Sock.read(client.fd, seconds: 5) { HTTPTestResponse.parse(afterSecond + $0) != nil }
            guard let (r, _) = HTTPTestResponse.parse(received) else { return XCTFail("incomplete response") }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.header("Transfer-Encoding"), "chunked")
            XCTAssertNil(r.header("Content-Length"))
            XCTAssertEqual(r.header("X-Known-Length"), "none")
            XCTAssertNil(r.header("Connection"), "a stream that read the whole body keeps the connection")
            XCTAssertEqual(r.bodyText, "hello world")
            // The connection is reusable after a fully read chunked body.
            client.send("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertEqual(Sock.readResponse(client.fd, seconds: 5)?.0.bodyText, "A")
        }
    }

    func testLargeUploadIsReadChunkByChunk() async throws {
        try await serve { server in
            let body = Self.pattern(count: 1 << 20, piece: 1000)
            let client = try RawClient(port: server.port)
            client.send(Array("POST /collect HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
            let r = client.readResponse(timeout: 10)
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.header("X-Known-Length"), String(body.count))
            XCTAssertGreaterThan(Int(r?.header("X-Chunks") ?? "") ?? 0, 1, "a 1 MiB body arrives in more than one read")
            XCTAssertEqual(r?.body.count, body.count)
            XCTAssertTrue(r?.body == body, "the echoed body differs")
        }
    }

    func testReadsAndWritesFromOtherThreadsWork() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            let chunks = (0..<20).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 1000 + $0) }
            let framed = chunks.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" }.joined()
            client.send("POST /offloop HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + framed + "0\r\n\r\n")
            let r = client.readResponse(timeout: 10)
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.bodyText, chunks.joined())
        }
    }

    func testExpectContinueIsAnsweredWhenTheHandlerReads() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("POST /collect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = Sock.read(client.fd, seconds: 5) { Sock.contains($0, "\r\n\r\n") }
            XCTAssertEqual(String(decoding: interim, as: UTF8.self), "HTTP/1.1 100 Continue\r\n\r\n")
            client.send("hello")
            guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no final response") }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "hello")
            XCTAssertEqual(rest, [])
        }
    }

    func testNoContinueWhenTheHandlerIgnoresTheBody() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 200, "the final response comes without a 100 first")
            XCTAssertEqual(r.bodyText, "A")
            XCTAssertEqual(rest, [])
            // The unsent body is never read, so the connection cannot be reused.
            XCTAssertEqual(r.header("Connection")?.lowercased(), "close")
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 5), .closed)
        }
    }

    // MARK: - Response streams

    func testStreamWithoutLengthIsChunked() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\nGET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.header("Transfer-Encoding"), "chunked")
            XCTAssertNil(r?.header("Content-Length"))
            XCTAssertTrue(r?.body == Self.pattern(count: 100000, piece: 7000), "streamed body differs")
            XCTAssertEqual(client.readResponse()?.bodyText, "A", "the connection stays usable after the stream")
        }
    }

    func testStreamWithLengthHasContentLength() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /sized HTTP/1.1\r\nHost: localhost\r\n\r\nGET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.header("Content-Length"), "100000")
            XCTAssertNil(r?.header("Transfer-Encoding"))
            XCTAssertTrue(r?.body == Self.pattern(count: 100000, piece: 7000), "streamed body differs")
            XCTAssertEqual(client.readResponse()?.bodyText, "A")
        }
    }

    func testStreamWithoutLengthOverHTTP10IsDelimitedByClose() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertNil(r?.header("Transfer-Encoding"), "HTTP/1.0 has no chunked coding")
            XCTAssertNil(r?.header("Content-Length"))
            XCTAssertEqual(r?.header("Connection")?.lowercased(), "close")
            XCTAssertTrue(r?.body == Self.pattern(count: 100000, piece: 7000), "streamed body differs")
        }
    }

    func testStreamShorterThanItsLengthCutsTheConnection() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n")
            var closed = false
            let bytes = Sock.read(client.fd, seconds: 5) { _ in false }
            if case .closed = Sock.waitForClose(client.fd, seconds: 1) { closed = true }
            XCTAssertTrue(closed, "the connection must close: the client cannot otherwise know the body is short")
            // Whatever got out before the close must not look complete: a cut, or a 502 when
            // nothing of the answer had gone out yet.
            if let (r, _) = HTTPTestResponse.parse(bytes) {
                XCTAssertEqual(r.status, 502, "a short body must not pass for a complete response")
            }
            XCTAssertLessThan(bytes.count, 99_000 + 200)
            XCTAssertEqual(freshGet(server.port, "/a")?.bodyText, "A")
        }
    }

    // MARK: - Back-pressure

    func testBackPressureStallsTheProducerUntilTheClientReads() async throws {
        let key = "backpressure-\(UInt64.random(in: 0...UInt64.max))"
        let total = 64 << 20, piece = 64 << 10
        let routes = """
        [{"handle": [{"handler": "test_stream", "total": \(total), "piece": \(piece), "declare_length": true, "progress": "\(key)"}]}]
        """
        try await serve(routes: routes) { server in
            let client = try RawClient(port: server.port)
            client.send("GET /huge HTTP/1.1\r\nHost: localhost\r\n\r\n")
            try await Task.sleep(nanoseconds: 2_000_000_000)
            let written = Board.shared.value(key)
            print("back-pressure: the producer had written \(written) bytes after 2 s of a client not reading")
            XCTAssertGreaterThan(written, 0, "the producer never started")
            XCTAssertLessThan(written, total / 4, "the producer ran ahead of a client that reads nothing")

            // Now read it all: head, then exactly `total` bytes of the expected pattern.
            let headBytes = Sock.read(client.fd, seconds: 5) { Sock.contains($0, "\r\n\r\n") }
            guard let (head, _) = HTTPTestResponse.parse(headBytes, isHead: true) else { return XCTFail("no head") }
            XCTAssertEqual(head.header("Content-Length"), String(total))
            var checker = PatternChecker(piece: piece)
            let headLength = Self.headLength(headBytes)
            XCTAssertTrue(checker.feed(headBytes[headLength...]))
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            let deadline = Sock.now() + 60
            while checker.offset < total && Sock.now() < deadline && checker.ok {
                var p = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 5000) > 0 else { break }
                let n = recv(client.fd, &buf, buf.count, 0)
                if n <= 0 { break }
                _ = checker.feed(buf[0..<n])
            }
            XCTAssertTrue(checker.ok, "wrong byte at offset \(checker.offset)")
            XCTAssertEqual(checker.offset, total)
            XCTAssertEqual(Board.shared.value(key), total)
        }
    }

    static func headLength(_ bytes: [UInt8]) -> Int {
        guard bytes.count >= 4 else { return bytes.count }
        for i in 0..<(bytes.count - 3) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return bytes.count
    }
}

/// Checks a stream against `StreamHandler`'s pattern without per-byte arithmetic.
struct PatternChecker {
    let piece: Int
    private(set) var offset = 0
    private(set) var ok = true

    init(piece: Int) { self.piece = piece }

    mutating func feed(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { raw in
            var i = 0
            while i < raw.count && ok {
                let expected = StreamHandler.expectedByte(at: offset, piece: piece)
                let run = min(piece - offset % piece, raw.count - i)
                // A run is all `expected` when its first byte is and every byte equals the next.
                ok = raw[i] == expected && (run == 1 || memcmp(raw.baseAddress! + i, raw.baseAddress! + i + 1, run - 1) == 0)
                if ok { offset += run; i += run }
            }
        }
        return ok
    }
}
