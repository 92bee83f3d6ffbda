import Foundation
import Quantum
@testable import QuantumFileSync
import QuantumTestSupport
import Synchronization
import XCTest

/// `rate_limit`: per client address, messages over the rate get 429 (REST) or a 1008 close
/// (WebSocket); uploads are paced to `upload_bytes_per_second`.
final class RateLimitTests: XCTestCase {
    /// A clock the test moves.
    final class Clock: Sendable {
        let nanos = Atomic<UInt64>(1_000_000_000)
        func advance(seconds: Double) { nanos.add(UInt64(seconds * 1e9), ordering: .relaxed) }
        var now: @Sendable () -> UInt64 { { self.nanos.load(ordering: .relaxed) } }
    }

    func testMessagesHaveABurstThenTheRate() {
        let clock = Clock()
        let limiter = SyncRateLimiter(SyncRateLimit(messagesPerSecond: 2, burst: 3), now: clock.now)
        for i in 0..<3 { XCTAssertNil(limiter.admitMessage(from: "192.0.2.1"), "burst message \(i)") }
        let wait = limiter.admitMessage(from: "192.0.2.1")
        XCTAssertEqual(wait, .milliseconds(500), "one message every half second")
        XCTAssertNil(limiter.admitMessage(from: "192.0.2.2"), "another address has its own bucket")
        clock.advance(seconds: 0.5)
        XCTAssertNil(limiter.admitMessage(from: "192.0.2.1"))
        XCTAssertNotNil(limiter.admitMessage(from: "192.0.2.1"))
        clock.advance(seconds: 60)
        for _ in 0..<3 { XCTAssertNil(limiter.admitMessage(from: "192.0.2.1")) }
        XCTAssertNotNil(limiter.admitMessage(from: "192.0.2.1"), "the burst does not grow while idle")
    }

    func testUploadsArePacedAndANewOneWaitsForTheDebt() {
        let clock = Clock()
        let limiter = SyncRateLimiter(SyncRateLimit(uploadBytesPerSecond: 1000), now: clock.now)
        XCTAssertNil(limiter.admitMessage(from: "a"), "no message limit configured")
        XCTAssertNil(limiter.admitUpload(from: "a"))
        XCTAssertNil(limiter.consumeUpload(600, from: "a"), "within the one-second burst")
        XCTAssertEqual(limiter.consumeUpload(900, from: "a"), .milliseconds(500), "500 bytes over: pause half a second")
        XCTAssertEqual(limiter.admitUpload(from: "a"), .milliseconds(501), "a new upload waits until the debt is paid")
        clock.advance(seconds: 0.6)
        XCTAssertNil(limiter.admitUpload(from: "a"))
    }

    func testTheAPIAnswers429AndASocketIsClosedWith1008() async throws {
        let s = try await SyncServer.start(#""enable_upload": true, "rate_limit": {"messages_per_second": 0.5, "burst": 3}"#)
        for i in 0..<3 { XCTAssertEqual(try s.request("GET", "/api/list").status, 200, "request \(i)") }
        let refused = try s.request("GET", "/api/list")
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(refused.header("Retry-After"), "2")
        XCTAssertEqual(try s.request("GET", "/ws").status, 429, "the handshake counts too")
        await s.stop()

        let t = try await SyncServer.start(#""rate_limit": {"messages_per_second": 1, "burst": 3}"#)
        let socket = try await t.socket()  // the handshake: one
        for _ in 0..<2 { try await socket.send(text: #"{"type":"Ping"}"#) }
        for _ in 0..<2 {
            let pong = try await socket.nextJSON()
            XCTAssertEqual(pong["type"]?.string, "Pong")
        }
        try await socket.send(text: #"{"type":"Ping"}"#)
        let error = try await socket.nextJSON()
        XCTAssertEqual(error["type"]?.string, "Error")
        XCTAssertTrue(error["message"]?.string?.contains("rate limit") == true, "\(error)")
        for await _ in socket {}
        XCTAssertEqual(socket.closeCode, .policyViolation)
        await t.stop()
    }

    func testTheConfigIsChecked() throws {
        func load(_ limit: String) -> String {
            do {
                _ = try ConfigLoader.load(json: Array("""
                {"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "routes": [
                  {"handle": [{"handler": "file_sync", "root": "\(NSTemporaryDirectory())quantum-rl-\(UUID().uuidString)", "rate_limit": \(limit)}]}]}}}}}
                """.utf8), registry: StandardModules.registry)
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertTrue(load(#"{"burst": 5}"#).contains("burst needs messages_per_second"), load(#"{"burst": 5}"#))
        XCTAssertTrue(load(#"{"messages_per_second": 0}"#).contains("rate_limit.messages_per_second: must be more than 0"))
        XCTAssertTrue(load(#"{"upload_bytes_per_second": "1MB", "messages": 3}"#).contains("messages"))
        XCTAssertEqual(load(#"{"messages_per_second": 10, "upload_bytes_per_second": "1MB"}"#), "")
    }
}
