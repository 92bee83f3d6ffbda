import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The lifecycle in the core (issue 18 §6): a reload keeps shared listeners and the connections
/// on them, WebSockets survive it, nothing fails under load, and a failed reload changes nothing.
final class InstanceTests: XCTestCase {
    /// A config answering `body` on every path (WebSocket echo on /echo) on each of `ports`.
    private func config(_ body: String, ports: [Int]) throws -> LoadedConfig {
        let listen = ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", ")
        return try ConfigLoader.load(json: Array("""
        {"apps": {"http": {"servers": {"s": {"listen": [\(listen)], "routes": [
          {"match": [{"path": ["/echo"]}], "handle": [{"handler": "websocket_echo"}], "terminal": true},
          {"handle": [{"handler": "static_response", "body": "\(body)"}]}]}}}}}
        """.utf8), registry: StandardModules.registry)
    }

    private func withInstance(_ body: (Instance) async throws -> Void) async throws {
        let instance = Instance(group: try EventLoopGroup(loopCount: 2))
        do { try await body(instance) } catch {
            await instance.stop(graceNanos: 0)
            instance.group.shutdown()
            throw error
        }
        await instance.stop(graceNanos: 0)
        instance.group.shutdown()
    }

    private func get(_ client: RawClient, _ path: String = "/") -> String? {
        client.send("GET \(path) HTTP/1.1\r\nHost: a\r\n\r\n")
        return client.readResponse()?.bodyText
    }

    func testAnIdleKeepAliveConnectionServesItsNextRequestOnTheNewRoutes() async throws {
        let port = freePort()
        try await withInstance { instance in
            try await instance.start(try config("one", ports: [port]))
            let client = try RawClient(port: port)
            XCTAssertEqual(get(client), "one")
            try await instance.reload(try config("two", ports: [port]))
            XCTAssertEqual(get(client), "two", "the same connection, not closed under its client")
            XCTAssertEqual(freshGet(port)?.bodyText, "two")
            try await instance.reload(try config("three", ports: [port]))
            XCTAssertEqual(get(client), "three")
        }
    }

    func testAWebSocketSurvivesReloads() async throws {
        let port = freePort()
        try await withInstance { instance in
            try await instance.start(try config("one", ports: [port]))
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)/echo")
            for round in 0..<3 {
                try await instance.reload(try config("round \(round)", ports: [port]))
                try await socket.send(.text("still here \(round)"))
                let echoed = await socket.next()
                XCTAssertTrue(echoed == .text("still here \(round)"), "echo after reload \(round)")
            }
            XCTAssertEqual(freshGet(port)?.bodyText, "round 2")
            await socket.close(code: .normal, reason: "done")
        }
    }

    func testAddressesTheNewConfigDropsStopListeningAndNewOnesStart() async throws {
        let kept = freePort(), dropped = freePort(), added = freePort()
        try await withInstance { instance in
            try await instance.start(try config("one", ports: [kept, dropped]))
            XCTAssertEqual(freshGet(dropped)?.bodyText, "one")
            try await instance.reload(try config("two", ports: [kept, added]))
            XCTAssertEqual(freshGet(kept)?.bodyText, "two")
            XCTAssertEqual(freshGet(added)?.bodyText, "two")
            XCTAssertThrowsError(try RawClient(port: dropped), "127.0.0.1:\(dropped) no longer listens")
        }
    }

    func testAFailedReloadLeavesTheRunningConfigAsItWas() async throws {
        let port = freePort()
        // A port held by a socket without SO_REUSEPORT: binding it fails.
        let blocker = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(blocker) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let taken: Int = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                guard bind(blocker, sa, length) == 0, listen(blocker, 1) == 0, getsockname(blocker, sa, &length) == 0 else { return 0 }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        XCTAssertNotEqual(taken, 0)
        try await withInstance { instance in
            try await instance.start(try config("one", ports: [port]))
            let client = try RawClient(port: port)
            XCTAssertEqual(get(client), "one")
            do {
                try await instance.reload(try config("two", ports: [port, taken]))
                XCTFail("binding a taken port must fail the reload")
            } catch {}
            XCTAssertEqual(get(client), "one", "the shared listener did not switch")
            XCTAssertEqual(freshGet(port)?.bodyText, "one")
        }
    }

    func testReloadsUnderLoadFailNoRequest() async throws {
        let port = freePort()
        try await withInstance { instance in
            try await instance.start(try config("v0", ports: [port]))
            let load = RequestLoad(port: port, clients: 4, prefix: "v")
            for round in 1...10 {
                try await Task.sleep(nanoseconds: 50_000_000)
                try await instance.reload(try config("v\(round)", ports: [port]))
            }
            try await Task.sleep(nanoseconds: 50_000_000)
            let result = await load.stop()
            XCTAssertEqual(result.failures, [], "every request during the reloads was answered")
            XCTAssertGreaterThan(result.answered, 50)
            XCTAssertEqual(freshGet(port)?.bodyText, "v10")
        }
    }
}
