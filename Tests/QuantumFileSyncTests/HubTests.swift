import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The hub's two disconnect rules: stale clients, and clients too far behind.
final class HubTests: XCTestCase {
    func testSilentClientsAreDroppedAfterThreeHeartbeats() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false, "heartbeat_interval": "200ms""#)
        let silent = try await s.socket()
        _ = try await silent.subscribe("quiet")
        let chatty = try await s.socket()
        _ = try await chatty.subscribe("chatty")
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && silent.closeCode == nil {
            try await chatty.send(text: #"{"type":"Ping"}"#)
            _ = try await chatty.nextJSON()
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        let last = await silent.receive()
        XCTAssertNil(last, "the silent client's socket was closed")
        XCTAssertEqual(silent.closeCode, .policyViolation)
        try await chatty.send(text: #"{"type":"Ping"}"#)
        let pong = try await chatty.nextJSON()
        XCTAssertEqual(pong["type"]?.string, "Pong", "a client that keeps talking stays")
        await s.stop()
    }

    func testAStuckClientIsDisconnectedAndTheOthersGetEverything() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "watch": false"#)
        // A raw WebSocket client that subscribes and then never reads.
        let stuck = try RawClient(port: s.port)
        stuck.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let subscribe = Array(#"{"type":"Subscribe","client_id":"stuck"}"#.utf8)
        var frame: [UInt8] = [0x81, 0x80 | UInt8(subscribe.count), 1, 2, 3, 4]
        frame += subscribe.enumerated().map { $0.element ^ [1, 2, 3, 4][$0.offset % 4] }
        stuck.send(frame)
        let healthy = try await s.socket()
        _ = try await healthy.subscribe("healthy")
        let count = 4000
        // The healthy client reads as operations come (it is not the one falling behind).
        let reader = Task { () -> [Int] in
            var seqs: [Int] = []
            while seqs.count < count + 1, let message = await healthy.receive() {
                if case .text(let text) = message, let seq = (try? JSONParser.parse(text))?["seq"]?.int { seqs.append(seq) }
            }
            return seqs
        }

        // Many large operations (long paths: ~2.5 KB each, megabytes in all — more than the
        // kernel buffers between server and client hold), quickly, over one keep-alive connection.
        let api = try RawClient(port: s.port)
        let deep = (0..<9).map { "\($0)" + String(repeating: "d", count: 250) }.joined(separator: "/")
        api.send("POST /api/mkdir/\(deep) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(api.readResponse()?.status, 201)
        for i in 0..<count {
            api.send("POST /api/mkdir/\(deep)/n\(i) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            XCTAssertEqual(api.readResponse()?.status, 201)
        }
        let seqs = await reader.value
        XCTAssertEqual(seqs.count, count + 1, "the healthy client got every operation")
        XCTAssertEqual(seqs.first, 1)
        XCTAssertTrue(zip(seqs, seqs.dropFirst()).allSatisfy { $1 == $0 + 1 }, "in order, without gaps")
        // The stuck client was cut off: reading what it was sent ends in a closed connection.
        let received = stuck.readAll(timeout: 15)
        XCTAssertTrue(stuck.isClosedByPeer(timeout: 1), "the stuck client was disconnected")
        XCTAssertLessThan(received.count, count * 2500, "it did not get everything there was")
        await s.stop()
    }
}
