import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// RFC 8441: WebSockets over HTTP/2 extended CONNECT, claimed by the same handlers as over
/// HTTP/1.1, with Python's `h2` as the peer (`Support/h2_websocket.py`) over h2c and TLS.
final class HTTP2WebSocketTests: XCTestCase {
    static let floodKey = "h2-flood-\(UInt64.random(in: 0...UInt64.max))"
    static let routes = """
    [{"match": [{"path": ["/echo"]}], "handle": [{"handler": "websocket_echo"}], "terminal": true},
     {"match": [{"path": ["/deflate"]}], "handle": [{"handler": "websocket_echo", "compression": true}], "terminal": true},
     {"match": [{"path": ["/greeter"]}], "handle": [{"handler": "test_ws_greeter"}], "terminal": true},
     {"match": [{"path": ["/flood"]}], "handle": [{"handler": "test_ws_flood", "count": 50, "key": "\(floodKey)"}], "terminal": true},
     {"handle": [{"handler": "static_response", "body": "plain"}]}]
    """

    static var script: String { HTTP2FrameTests.script(["Support", "h2_websocket.py"]) }

    private func python() throws -> String {
        guard let python = HTTP2FrameTests.python else { throw XCTSkip("Python with h2 not found (scripts/deps.sh makes /tmp/quantum-h2-venv)") }
        return python
    }

    /// Runs driver cases against an h2c server with the WebSocket routes.
    private func run(_ cases: [String]) async throws {
        let python = try python()
        try await withServer(routes: Self.routes, serverFields: HTTP2Tests.h2c, registry: webSocketTestRegistry()) { server in
            let r = runProcess(python, [Self.script, "--port", String(server.port)] + cases, timeout: 90)
            Self.check(r.output, cases)
        }
    }

    static func check(_ output: String, _ cases: [String], file: StaticString = #filePath, line: UInt = #line) {
        for l in output.split(separator: "\n") where l.hasPrefix("FAIL") { XCTFail(String(l), file: file, line: line) }
        for l in output.split(separator: "\n") where l.hasPrefix("back-pressure") { print("h2 WebSocket \(l)") }
        XCTAssertEqual(output.components(separatedBy: "PASS ").count - 1, cases.count, output, file: file, line: line)
    }

    func testEchoOverH2C() async throws { try await run(["echo"]) }
    func testSubprotocolIsNegotiated() async throws { try await run(["subprotocol"]) }
    func testPerMessageDeflateOverH2() async throws { try await run(["deflate"]) }
    func testOtherStreamsWorkWhileASocketIsOpen() async throws { try await run(["other_streams"]) }
    func testUnclaimedAndUnsupportedCONNECT() async throws { try await run(["unclaimed_and_rejected"]) }
    func testClientResetEndsOnlyThatSocket() async throws { try await run(["client_reset"]) }
    func testPeerEndStreamEndsTheSocket() async throws { try await run(["peer_end_stream"]) }
    func testInboundBackPressureThroughTheStreamWindow() async throws { try await run(["inbound_back_pressure"]) }
    func testProtocolErrorClosesWith1002() async throws { try await run(["protocol_error_1002"]) }

    /// The server's sender waits for a client whose window stays closed: while the client
    /// stalls, only a few of the 50 × 64 KiB messages have been sent (the rest would be
    /// 3.2 MB queued in memory); all arrive in order afterwards.
    func testSenderWaitsForAStalledReader() async throws {
        let python = try python()
        try await withServer(routes: Self.routes, serverFields: HTTP2Tests.h2c, registry: webSocketTestRegistry()) { server in
            let driver = try DriverProcess(python, [Self.script, "--port", String(server.port), "flood_waits_for_reader"])
            XCTAssertTrue(driver.waitFor("READY", seconds: 20), driver.output)
            let sent = Board.shared.value(Self.floodKey)
            print("h2 WebSocket back-pressure: \(sent) of 50 messages sent while the client's window was closed")
            XCTAssertLessThan(sent, 12, "the sender must wait for the reader")
            Self.check(driver.finish(seconds: 60), ["flood_waits_for_reader"])
        }
    }

    /// A graceful stop sends GOAWAY and closes an open socket with 1001, as over HTTP/1.1.
    func testGracefulStopClosesWith1001() async throws {
        let python = try python()
        let server = try await TestServer.start(routes: Self.routes, serverFields: HTTP2Tests.h2c, registry: webSocketTestRegistry())
        let driver = try DriverProcess(python, [Self.script, "--port", String(server.port), "shutdown_1001"])
        XCTAssertTrue(driver.waitFor("READY", seconds: 20), driver.output)
        await server.app.stop(graceNanos: 5_000_000_000)
        Self.check(driver.finish(seconds: 30), ["shutdown_1001"])
        server.group.shutdown()
    }

    /// The same cases over TLS (ALPN h2).
    func testEchoDeflateAndOtherStreamsOverTLS() async throws {
        let python = try python()
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, routes: Self.routes), registry: webSocketTestRegistry()) { server in
            let cases = ["echo", "deflate", "other_streams", "inbound_back_pressure"]
            let r = runProcess(python, [Self.script, "--port", String(server.port), "--tls", pki.cert("ca"), "--host", "a.test"] + cases,
                               timeout: 90)
            Self.check(r.output, cases)
        }
    }

    /// Over HTTP/1.1 nothing changed: the claim still answers 101 with Sec-WebSocket-Accept.
    func testHTTP1ClaimStillAnswers101() async throws {
        try await withServer(routes: Self.routes, serverFields: HTTP2Tests.h2c, registry: webSocketTestRegistry()) { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/echo")
            try await socket.send(text: "h1")
            let got = await socket.next()
            XCTAssertEqual(got, .text("h1"))
            await socket.close()
        }
    }

    /// Handshake checks without a network: an extended CONNECT is a WebSocket request with no
    /// key, and the claim answers it with 200 and no accept value.
    func testExtendedConnectHandshakeValidation() {
        var request = Request(method: "CONNECT", rawPath: "/chat", proto: "HTTP/2.0",
                              headers: HTTPFields([("sec-websocket-version", "13")]))
        XCTAssertFalse(WebSocketHandshake.isWebSocketRequest(request))
        request.connectProtocol = "websocket"
        XCTAssertTrue(WebSocketHandshake.isWebSocketRequest(request))
        XCTAssertNil(WebSocketHandshake.validate(request))
        let claimed = WebSocketUpgrade.claim(request) { _ in }
        XCTAssertEqual(claimed.status, 200)
        XCTAssertNil(claimed.headers["sec-websocket-accept"])
        XCTAssertNil(claimed.headers["upgrade"])
        XCTAssertNotNil(claimed.upgrade)
        var wrongMethod = request
        wrongMethod.method = "GET"
        XCTAssertEqual(WebSocketHandshake.validate(wrongMethod)?.status, 400)
        var wrongVersion = request
        wrongVersion.headers = HTTPFields([("sec-websocket-version", "8")])
        XCTAssertEqual(WebSocketHandshake.validate(wrongVersion)?.status, 426)
    }
}

/// A driver process whose output is read as it comes, so a test can act at a marker line.
final class DriverProcess {
    private let pid: pid_t
    private let fd: Int32
    private var bytes: [UInt8] = []
    private var done = false

    init(_ executable: String, _ arguments: [String]) throws {
        (pid, fd) = try spawnProcess(executable, arguments)
    }

    var output: String { String(decoding: bytes, as: UTF8.self) }

    /// Reads until `marker` has appeared (true) or `seconds` passed / the output ended (false).
    func waitFor(_ marker: String, seconds: Double) -> Bool {
        let deadline = Sock.now() + seconds
        while !output.contains(marker) {
            guard !done, Sock.now() < deadline, readSome(until: deadline) else { return output.contains(marker) }
        }
        return true
    }

    /// Reads the rest (killing the process after `seconds`) and reaps it.
    func finish(seconds: Double) -> String {
        let deadline = Sock.now() + seconds
        while !done && readSome(until: deadline) {}
        if !done { kill(pid, SIGKILL) }
        close(fd)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return output
    }

    private func readSome(until deadline: Double) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let remaining = Int32(max(0, deadline - Sock.now()) * 1000)
        guard poll(&pfd, 1, remaining) > 0 else { return false }
        var buf = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buf, buf.count)
        if n <= 0 { done = true; return false }
        bytes += buf[0..<n]
        return true
    }
}
