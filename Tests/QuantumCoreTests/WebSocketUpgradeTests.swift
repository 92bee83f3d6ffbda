import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The opening handshake on the wire: the accept value, 400/426 for invalid upgrades, and
/// upgrades nobody claims answered as ordinary requests.
final class WebSocketUpgradeTests: XCTestCase {
    func testAcceptValueFromRFC6455() {
        // RFC 6455 §1.3.
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let key = WebSocketHandshake.makeKey()
        XCTAssertEqual(Base64.decode(key)?.count, 16)
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertNil(Base64.decode("Zm8=Zm8="))
        XCTAssertNil(Base64.decode("Zm8"))
    }

    func withEchoServer(_ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry(), body)
    }

    func testValidUpgradeGets101WithAccept() async throws {
        try await withEchoServer { server in
            let fd = try RawClient(port: server.port)
            fd.send(upgradeRequest(extra: "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"))
            guard let r = fd.readResponse() else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 101)
            XCTAssertEqual(r.header("upgrade")?.lowercased(), "websocket")
            XCTAssertEqual(r.header("connection")?.lowercased(), "upgrade")
            XCTAssertEqual(r.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            XCTAssertNil(r.header("sec-websocket-protocol"), "websocket_echo speaks no subprotocol unless configured")
            XCTAssertNil(r.header("sec-websocket-extensions"), "compression is off unless configured")
            XCTAssertNil(r.header("content-length"))
            // A masked "Hello" comes back unmasked; then a close is answered and the server hangs up.
            fd.send([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
            XCTAssertEqual(fd.readBytes(7), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
            fd.send([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8])
            XCTAssertEqual(fd.readBytes(4), [0x88, 0x02, 0x03, 0xE8])
            XCTAssertTrue(fd.isClosedByPeer(), "the server closes the TCP connection after the closing handshake")
        }
    }

    /// Frames sent right behind the handshake, in the same packet, are not lost.
    func testFramesPipelinedWithTheHandshake() async throws {
        try await withEchoServer { server in
            let fd = try RawClient(port: server.port)
            fd.send(Array(upgradeRequest().utf8) + [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
            // Read the head and whatever follows it straight from the socket.
            guard let (r, rest) = Sock.readResponse(fd.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 101)
            XCTAssertEqual(rest + fd.readBytes(7 - rest.count), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        }
    }

    func testInvalidUpgrades() async throws {
        try await withEchoServer { server in
            func status(_ request: String) -> HTTPTestResponse? {
                guard let fd = try? RawClient(port: server.port) else { return nil }
                fd.send(request)
                return fd.readResponse()
            }
            let wrongVersion = status(upgradeRequest(version: "8"))
            XCTAssertEqual(wrongVersion?.status, 426)
            XCTAssertEqual(wrongVersion?.header("sec-websocket-version"), "13")
            XCTAssertEqual(status(upgradeRequest(version: "13, 8"))?.status, 426)
            XCTAssertEqual(status(upgradeRequest(version: ""))?.status, 400, "missing version")
            XCTAssertEqual(status(upgradeRequest(key: ""))?.status, 400, "missing key")
            XCTAssertEqual(status(upgradeRequest(key: "c2hvcnQ="))?.status, 400, "key is not 16 bytes")
            XCTAssertEqual(status(upgradeRequest(key: "not base64 at all!!!!!=="))?.status, 400)
            XCTAssertEqual(status(upgradeRequest(method: "POST", extra: "Content-Length: 0\r\n"))?.status, 400, "not GET")
            XCTAssertEqual(status(upgradeRequest(extra: "Content-Length: 5\r\n") + "hello")?.status, 400, "a body")
            let noConnection = "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            XCTAssertEqual(status(noConnection)?.status, 400, "Connection: upgrade missing")
            // The server is still fine.
            XCTAssertEqual(freshGet(server.port, "/")?.bodyText, "plain")
        }
    }

    /// An upgrade request nobody claims is an ordinary request, and the connection goes on
    /// serving HTTP afterwards.
    func testUnclaimedUpgradeIsAnOrdinaryRequest() async throws {
        try await withEchoServer { server in
            let fd = try RawClient(port: server.port)
            fd.send(upgradeRequest(path: "/other"))
            let first = fd.readResponse()
            XCTAssertEqual(first?.status, 200)
            XCTAssertEqual(first?.bodyText, "plain")
            fd.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(fd.readResponse()?.bodyText, "plain", "still HTTP on the same connection")
            // An h2c upgrade to a WebSocket handler is not a WebSocket request either.
            let h2c = try RawClient(port: server.port)
            h2c.send("GET /mixed HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
            XCTAssertEqual(h2c.readResponse()?.bodyText, "not a websocket")
        }
    }

    /// Garbage after a valid handshake fails the connection with a close frame, and a peer that
    /// vanishes mid-message leaves nothing behind.
    func testProtocolErrorOnTheWireClosesWith1002() async throws {
        try await withEchoServer { server in
            let fd = try RawClient(port: server.port)
            fd.send(upgradeRequest())
            XCTAssertEqual(fd.readResponse()?.status, 101)
            fd.send([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])  // unmasked: a protocol error
            let header = fd.readBytes(2)
            XCTAssertEqual(header.first, 0x88)
            let close = fd.readBytes(Int(header.count == 2 ? header[1] : 0))
            XCTAssertEqual(close.count >= 2 ? UInt16(close[0]) << 8 | UInt16(close[1]) : 0, 1002)
            XCTAssertTrue(fd.isClosedByPeer())

            let gone = try RawClient(port: server.port)
            gone.send(upgradeRequest())
            XCTAssertEqual(gone.readResponse()?.status, 101)
            gone.send([0x82, 0xFE, 0x10, 0x00, 1, 2, 3, 4, 9, 9, 9])  // 4 KiB announced, 3 bytes sent
            gone.shutdownWrite()
            XCTAssertTrue(gone.isClosedByPeer())
            XCTAssertEqual(freshGet(server.port, "/")?.bodyText, "plain")
        }
    }
}

extension RawClient {
    /// Reads exactly `count` bytes (fewer if the peer closes or 5 s pass).
    func readBytes(_ count: Int, timeout: Int = 5) -> [UInt8] {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: count)
        while out.count < count {
            let n = read(fd, &buf, count - out.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
