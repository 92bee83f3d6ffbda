import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// HTTP/1.1 connections end to end: raw bytes over real sockets to a server on port 0.
final class HTTP1ConnectionTests: XCTestCase {
    static let routes = """
    [
      {"match": [{"path": ["/a"]}], "handle": [{"handler": "static_response", "body": "A"}]},
      {"match": [{"path": ["/b"]}], "handle": [{"handler": "static_response", "body": "BB"}]},
      {"match": [{"path": ["/target"]}], "handle": [{"handler": "static_response",
        "body": "{http.request.hostport} {http.request.uri} {http.request.proto}"}]},
      {"match": [{"path": ["/big"]}], "handle": [{"handler": "test_stream", "total": 8388608, "piece": 65536}]},
      {"handle": [{"handler": "static_response", "body": "hello"}]}
    ]
    """

    func serve(_ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: Self.routes, registry: coreTestRegistry(), body)
    }

    // MARK: - Persistence

    func testKeepAliveServesTwoRequestsOnOneConnection() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let first = client.readResponse()
            XCTAssertEqual(first?.status, 200)
            XCTAssertEqual(first?.bodyText, "A")
            XCTAssertNil(first?.header("Connection"), "HTTP/1.1 persists without saying so")
            client.send("GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let second = client.readResponse()
            XCTAssertEqual(second?.status, 200)
            XCTAssertEqual(second?.bodyText, "BB")
        }
    }

    func testHundredPipelinedRequestsAreAnsweredInOrder() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            var batch = ""
            for i in 0..<100 { batch += "GET /\(i % 2 == 0 ? "a" : "b") HTTP/1.1\r\nHost: localhost\r\n\r\n" }
            client.send(batch)
            for i in 0..<100 {
                guard let r = client.readResponse() else { return XCTFail("response \(i) missing") }
                XCTAssertEqual(r.status, 200)
                XCTAssertEqual(r.bodyText, i % 2 == 0 ? "A" : "BB", "response \(i) out of order")
            }
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 0.3), .stillOpen, "no extra bytes, still open")
        }
    }

    /// A client that pipelines requests and never reads the answers must not make the server
    /// buffer answers without bound: once output backs up, it stops reading requests.
    func testPipeliningClientThatNeverReadsIsThrottled() async throws {
        let key = "pipeline-\(UInt64.random(in: 0...UInt64.max))"
        let routes = #"[{"handle": [{"handler": "test_count", "key": "\#(key)"}]}]"#
        try await withServer(routes: routes, registry: coreTestRegistry()) { server in
            let client = try RawClient(port: server.port)
            let request = Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
            let batch = [[UInt8]](repeating: request, count: 65536 / request.count).flatMap { $0 }
            // Push requests for up to 3 s (at most 64 MiB) without reading a byte.
            var sent = 0, offset = 0
            let deadline = Sock.now() + 3
            while Sock.now() < deadline && sent < 64 << 20 {
                let n = batch[offset...].withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                if n > 0 {
                    sent += n
                    offset = (offset + n) % batch.count
                } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                    var p = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, 50)
                } else {
                    return XCTFail("send failed: errno \(errno)")
                }
            }
            try await Task.sleep(nanoseconds: 500_000_000)
            let answered = Board.shared.value(key)
            let responseSize = 130  // roughly: status line, Server, Date, Content-Length, "A"
            print("pipelining: client sent \(sent) bytes (\(sent / request.count) requests); server answered \(answered)")
            XCTAssertGreaterThan(answered, 0)
            XCTAssertLessThan(answered * responseSize, 24 << 20,
                              "the server buffered \(answered) unread answers instead of pausing its reads")

            // Once the client reads, the server resumes: every whole request gets its answer.
            // The answers are identical in size (the Date header has a fixed width).
            let expected = sent / request.count
            let first = Sock.read(client.fd, seconds: 5) { HTTPTestResponse.parse($0) != nil }
            guard let (response, size) = HTTPTestResponse.parse(first) else { return XCTFail("no first answer") }
            XCTAssertEqual(response.bodyText, "A")
            var total = first.count
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            let readDeadline = Sock.now() + 60
            while total < expected * size && Sock.now() < readDeadline {
                var p = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 5000) > 0 else { break }
                let n = recv(client.fd, &buf, buf.count, 0)
                if n <= 0 { break }
                total += n
            }
            XCTAssertEqual(total, expected * size, "answers missing after the client started reading")
            XCTAssertEqual(Board.shared.value(key), expected)
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 0.3), .stillOpen, "no extra bytes, still open")
        }
    }

    func testRequestDripFedByteByByteIsServed() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            Sock.setNoDelay(client.fd)
            for byte in Array("GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8) {
                client.send([byte])
                usleep(2000)
            }
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.bodyText, "BB")
        }
    }

    func testUnreadRequestBodiesDoNotDesynchronizeTheConnection() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            // static_response never reads the body; the bytes must still be skipped as framed.
            let inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
            let size = inner.utf8.count
            client.send("POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(size)\r\n\r\n" + inner
                + "POST /b HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(size, radix: 16) + "\r\n" + inner + "\r\n0\r\n\r\n"
                + "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.bodyText, "A")
            XCTAssertEqual(client.readResponse()?.bodyText, "BB")
            XCTAssertEqual(client.readResponse()?.bodyText, "A")
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 0.3), .stillOpen)
        }
    }

    func testHeadHasContentLengthButNoBody() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("HEAD /b HTTP/1.1\r\nHost: localhost\r\n\r\nGET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let head = client.readResponse(isHead: true)
            XCTAssertEqual(head?.status, 200)
            XCTAssertEqual(head?.header("Content-Length"), "2")
            XCTAssertEqual(head?.body, [])
            // Had HEAD carried body bytes, they would now be read as the next response.
            let get = client.readResponse()
            XCTAssertEqual(get?.status, 200)
            XCTAssertEqual(get?.bodyText, "A")
        }
    }

    func testHTTP10ClosesByDefault() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /a HTTP/1.0\r\n\r\n")
            guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "A")
            XCTAssertEqual(r.header("Connection")?.lowercased(), "close")
            XCTAssertEqual(rest, [])
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 5), .closed)
        }
    }

    func testHTTP10WithKeepAliveStaysOpen() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let first = client.readResponse()
            XCTAssertEqual(first?.bodyText, "A")
            XCTAssertEqual(first?.header("Connection")?.lowercased(), "keep-alive")
            client.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let second = client.readResponse()
            XCTAssertEqual(second?.bodyText, "BB")
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 0.3), .stillOpen)
        }
    }

    func testConnectionCloseClosesAfterTheResponse() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\n\r\n")
            guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.bodyText, "A")
            XCTAssertEqual(r.header("Connection")?.lowercased(), "close")
            XCTAssertEqual(rest, [], "the request after Connection: close is not answered")
            XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 5), .closed)
        }
    }

    // MARK: - Targets and headers

    func testAbsoluteFormTargetSetsTheHost() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET http://example.com:8080/target?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.status, 200)
            XCTAssertEqual(r?.bodyText, "example.com:8080 /target?q=1 HTTP/1.1")
        }
    }

    func testDateAndServerHeaders() async throws {
        try await serve { server in
            let client = try RawClient(port: server.port)
            client.send("GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let r = client.readResponse()
            XCTAssertEqual(r?.header("Server"), "Quantum")
            let date = try XCTUnwrap(r?.header("Date"))
            XCTAssertTrue(Self.isIMFFixdate(date), "Date \(date.debugDescription) is not an IMF-fixdate")
            XCTAssertEqual(r?.header("Content-Length"), "1")
            XCTAssertEqual(r?.headers.filter { $0.0.lowercased() == "date" }.count, 1)
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
    static func isIMFFixdate(_ s: String) -> Bool {
        let parts = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard s.utf8.count == 29, parts.count == 6 else { return false }
        let days = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let digits = { (t: String) in t.allSatisfy { $0.isASCII && $0.isNumber } }
        let time = parts[4].split(separator: ":").map(String.init)
        return days.contains(parts[0]) && parts[1].count == 2 && digits(parts[1]) && months.contains(parts[2])
            && parts[3].count == 4 && digits(parts[3]) && time.count == 3 && time.allSatisfy { $0.count == 2 && digits($0) }
            && parts[5] == "GMT"
    }

    // MARK: - Hostile input

    /// Each malformed request gets its exact status with `Connection: close`, nothing more is
    /// answered on that connection (no smuggled request), the connection closes, and a fresh
    /// connection is still served.
    func testHostileRequestsAreRejectedAndTheServerKeepsServing() async throws {
        let post = "POST /a HTTP/1.1\r\nHost: localhost\r\n"
        let chunked = post + "Transfer-Encoding: chunked\r\n\r\n"
        let smuggled = "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n"
        let get = "GET /a HTTP/1.1\r\nHost: localhost\r\n"
        let corpus: [(String, String, Int)] = [
            ("CL and TE", post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("duplicate CL, same", post + "Content-Length: 4\r\nContent-Length: 4\r\n\r\ntest" + smuggled, 400),
            ("duplicate CL, different", post + "Content-Length: 4\r\nContent-Length: 5\r\n\r\ntest" + smuggled, 400),
            ("CL list", post + "Content-Length: 4, 5\r\n\r\ntest" + smuggled, 400),
            ("CL plus sign", post + "Content-Length: +4\r\n\r\ntest" + smuggled, 400),
            ("CL negative", post + "Content-Length: -1\r\n\r\n" + smuggled, 400),
            ("CL hex", post + "Content-Length: 0x4\r\n\r\ntest" + smuggled, 400),
            ("CL huge", post + "Content-Length: 99999999999999999999999\r\n\r\n" + smuggled, 400),
            ("TE in HTTP/1.0", "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("TE unknown", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled, 501),
            ("TE chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled, 400),
            ("bad chunk size", chunked + "zz\r\ntest\r\n0\r\n\r\n" + smuggled, 400),
            ("chunk size overflow", chunked + "fffffffffffffffff1\r\ntest\r\n0\r\n\r\n" + smuggled, 400),
            ("missing CRLF after chunk data", chunked + "4\r\ntestXX0\r\n\r\n" + smuggled, 400),
            ("obs-fold", get + "X-A: a\r\n b\r\n\r\n", 400),
            ("bare CR", get + "X-A: a\rb\r\n\r\n", 400),
            ("bare LF", "GET /a HTTP/1.1\nHost: localhost\n\n", 400),
            ("NUL in header", get + "X-A: a\u{0}b\r\n\r\n", 400),
            ("space before colon", "GET /a HTTP/1.1\r\nHost : localhost\r\n\r\n", 400),
            ("no colon", get + "NoColonHere\r\n\r\n", 400),
            ("bad method chars", "G(T /a HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
            ("bad version", "GET /a HTTP/1.1x\r\nHost: localhost\r\n\r\n", 400),
            ("HTTP/2.0", "GET /a HTTP/2.0\r\nHost: localhost\r\n\r\n", 505),
            ("missing Host", "GET /a HTTP/1.1\r\n\r\n", 400),
            ("double Host", get + "Host: localhost\r\n\r\n", 400),
            ("header block too large", get + "X-Big: " + String(repeating: "a", count: 20000) + "\r\n\r\n", 431),
            ("too many headers", get + (0..<300).map { "X-\($0): v\r\n" }.joined() + "\r\n", 431),
        ]
        try await serve { server in
            for (name, raw, status) in corpus {
                let client = try RawClient(port: server.port)
                Sock.send(client.fd, raw)  // may fail part-way once the server has seen enough
                guard let (r, rest) = Sock.readResponse(client.fd, seconds: 5) else {
                    XCTFail("\(name): no response")
                    continue
                }
                XCTAssertEqual(r.status, status, name)
                XCTAssertEqual(r.header("Connection")?.lowercased(), "close", name)
                XCTAssertEqual(r.header("Content-Length"), "0", name)
                XCTAssertEqual(rest, [], "\(name): more than one response")
                XCTAssertEqual(Sock.waitForClose(client.fd, seconds: 5), .closed, "\(name): connection left open")
                let fresh = freshGet(server.port, "/a")
                XCTAssertEqual(fresh?.status, 200, "\(name): server stopped serving")
                XCTAssertEqual(fresh?.bodyText, "A", name)
            }
        }
    }

    func testClientResetMidResponseLeavesTheServerServing() async throws {
        try await serve { server in
            for _ in 0..<3 {
                let client = try RawClient(port: server.port)
                client.send("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
                let start = Sock.read(client.fd, seconds: 5) { $0.count >= 100_000 }
                XCTAssertGreaterThanOrEqual(start.count, 100_000)
                // Abortive close: the server's next writes meet a reset.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            XCTAssertEqual(freshGet(server.port, "/a")?.bodyText, "A")
        }
    }
}
