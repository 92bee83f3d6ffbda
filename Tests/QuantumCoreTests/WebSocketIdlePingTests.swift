import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Idle pings (`ping_interval`, `ping_timeout`): a silent peer is pinged, one that never answers
/// is dropped, one that answers (Quantum's client pongs automatically) stays.
final class WebSocketIdlePingTests: XCTestCase {
    func testSilentPeerIsPingedThenDropped() async throws {
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry()) { server in
            let fd = try RawClient(port: server.port)
            fd.send(upgradeRequest(path: "/keepalive"))
            guard let (r, rest) = Sock.readResponse(fd.fd, seconds: 5) else { return XCTFail("no response") }
            XCTAssertEqual(r.status, 101)
            // A ping with an empty payload arrives, we never answer, and the server gives up:
            // a close frame (1011) and then the end of the connection.
            var bytes = rest + fd.readBytes(2 - min(2, rest.count))
            XCTAssertEqual(Array(bytes.prefix(2)), [0x89, 0x00])
            bytes = Array(bytes.dropFirst(2))
            let header = bytes.count >= 2 ? Array(bytes.prefix(2)) : bytes + fd.readBytes(2 - bytes.count)
            XCTAssertEqual(header.first, 0x88)
            let body = fd.readBytes(Int(header.count == 2 ? header[1] : 0))
            XCTAssertEqual(body.count >= 2 ? UInt16(body[0]) << 8 | UInt16(body[1]) : 0, 1011)
            XCTAssertTrue(fd.isClosedByPeer())
        }
    }

    func testAnsweringPeerStays() async throws {
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry()) { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/keepalive")
            // Several ping intervals pass with the client silent but answering pings.
            try await Task.sleep(for: .seconds(1))
            try await socket.send(text: "still here")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("still here")) }
            XCTAssertNil(socket.closeCode)
            await socket.close()
        }
    }
}
