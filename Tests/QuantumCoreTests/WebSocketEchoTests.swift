import Quantum
import QuantumTestSupport
import XCTest

/// End to end: Quantum's WebSocket client against the `websocket_echo` handler (and a custom
/// handler that claims upgrades) on an in-process server.
final class WebSocketEchoTests: XCTestCase {
    func withEchoServer(_ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry(), body)
    }

    func testEchoesTextAndBinary() async throws {
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/echo")
            XCTAssertNil(socket.compression)
            let messages: [WebSocketMessage] = [
                .text("Hello"), .text(""), .binary([]), .binary([0, 1, 2, 255]), .text("ünïcødé ✓ 😀"),
                .binary((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }), .text(String(repeating: "x", count: 70_000)),
            ]
            for m in messages {
                try await socket.send(m)
                let echoed = await socket.next()
                XCTAssertEqual(echoed?.count, m.count)
                XCTAssertTrue(echoed == m, "echo of a \(m.count)-byte message differs")
            }
            await socket.close()
            XCTAssertEqual(socket.closeCode, .normal)
            do { let got = await socket.receive(); XCTAssertNil(got, "iteration ends after the close") }
            do {
                try await socket.send(text: "late")
                XCTFail("sending after close must fail")
            } catch let error as WebSocketError {
                XCTAssertEqual(error, .closed)
            }
        }
    }

    /// Many messages in flight at once come back complete and in order.
    func testPipelinedMessagesKeepTheirOrder() async throws {
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/echo")
            let count = 2000
            let sender = Task {
                for i in 0..<count { try await socket.send(text: "message \(i)") }
            }
            for i in 0..<count {
                guard let m = await socket.next() else { return XCTFail("connection ended at \(i)") }
                XCTAssertEqual(m, .text("message \(i)"))
            }
            try await sender.value
            await socket.close()
        }
    }

    func testPermessageDeflateEcho() async throws {
        try await withEchoServer { server in
            let config = WebSocketConfiguration(compression: WebSocketCompression())
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/deflate", configuration: config)
            XCTAssertNotNil(socket.compression, "permessage-deflate negotiated")
            for m: WebSocketMessage in [.text("Hello"), .text("Hello"), .text(""), .binary([UInt8](repeating: 7, count: 1 << 20)),
                                        .binary((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 9) })] {
                try await socket.send(m)
                do { let got = await socket.next(); XCTAssertTrue(got == m, "echo of a \(m.count)-byte message differs") }
            }
            await socket.close()
            XCTAssertEqual(socket.closeCode, .normal)

            // The server without compression configured declines the offer.
            let plain = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/echo", configuration: config)
            XCTAssertNil(plain.compression)
            try await plain.send(text: "still works")
            do { let got = await plain.next(); XCTAssertEqual(got, .text("still works")) }
            await plain.close()

            // No context takeover both ways, small windows.
            let tight = WebSocketConfiguration(compression: WebSocketCompression(noContextTakeover: true, requestPeerNoContextTakeover: true,
                                                                                 maxWindowBits: 9, peerMaxWindowBits: 8))
            let small = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/deflate", configuration: tight)
            XCTAssertEqual(small.compression?.serverNoContextTakeover, true)
            XCTAssertEqual(small.compression?.serverMaxWindowBits, 8)
            for i in 0..<20 {
                let m = WebSocketMessage.text(String(repeating: "abc\(i)", count: 500))
                try await small.send(m)
                do { let got = await small.next(); XCTAssertEqual(got, m) }
            }
            await small.close()
        }
    }

    /// A message over the handler's `max_message_size` closes the connection with 1009.
    func testMessageTooBigCloses1009() async throws {
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/small")
            try await socket.send(binary: [UInt8](repeating: 1, count: 1024))
            do { let got = await socket.next(); XCTAssertEqual(got?.count, 1024, "exactly the limit is fine") }
            try await socket.send(binary: [UInt8](repeating: 1, count: 1025))
            do { let got = await socket.next(); XCTAssertNil(got) }
            XCTAssertEqual(socket.closeCode, .messageTooBig)
        }
    }

    /// A custom handler claims the upgrade, picks a subprotocol, speaks first and closes with its own code.
    func testCustomHandlerClaimsWithSubprotocolAndCloseCode() async throws {
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/greeter", subprotocols: ["superchat", "chat"])
            XCTAssertEqual(socket.subprotocol, "chat", "the server's preference among those offered")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("hello chat")) }
            try await socket.ping(Array("are you there".utf8))
            try await socket.send(text: "echo me")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("echo me")) }
            try await socket.send(text: "bye")
            do { let got = await socket.next(); XCTAssertNil(got) }
            XCTAssertEqual(socket.closeCode, WebSocketCloseCode(4001))
            XCTAssertEqual(socket.closeReason, "done")

            let none = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/greeter", subprotocols: ["other"])
            XCTAssertNil(none.subprotocol)
            do { let got = await none.next(); XCTAssertEqual(got, .text("hello none")) }
            await none.close()
        }
    }

    /// Requests that are not WebSocket upgrades pass through `websocket_echo` to the next handler,
    /// and the client reports a non-101 answer as a failed handshake.
    func testNonUpgradeRequestsPassThrough() async throws {
        try await withEchoServer { server in
            XCTAssertEqual(freshGet(server.port, "/mixed")?.bodyText, "not a websocket")
            do {
                _ = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/nothing-here")
                XCTFail("a 200 is not a handshake")
            } catch let error as WebSocketError {
                XCTAssertEqual(error, .handshakeFailed("status 200"))
            }
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/mixed")
            try await socket.send(text: "upgrade claimed")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("upgrade claimed")) }
            await socket.close()
        }
    }

    /// Sends from several tasks at once arrive whole (frames never interleave).
    func testConcurrentSendersDoNotInterleave() async throws {
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/deflate",
                                                           configuration: WebSocketConfiguration(compression: WebSocketCompression()))
            let perTask = 100
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<4 {
                    group.addTask {
                        for i in 0..<perTask { try await socket.send(text: String(repeating: "\(t)", count: 1000 + i)) }
                    }
                }
                try await group.waitForAll()
            }
            var seen = [Int](repeating: 0, count: 4)
            for _ in 0..<(4 * perTask) {
                guard case .text(let s)? = await socket.next(), let first = s.first, let t = Int(String(first)) else { return XCTFail("bad echo") }
                XCTAssertTrue(s.allSatisfy { $0 == first })
                XCTAssertEqual(s.count, 1000 + seen[t], "task \(t)'s messages stay in order")
                seen[t] += 1
            }
            await socket.close()
        }
    }

    /// `broadcast: true` sends every message to every connection of the handler, one sent
    /// from a client's own task included; a member that left gets nothing more.
    func testBroadcastRoom() async throws {
        try await withEchoServer { server in
            let deflate = WebSocketConfiguration(compression: WebSocketCompression())
            var members: [WebSocket] = []
            for i in 0..<6 {
                members.append(try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/room", configuration: i % 2 == 0 ? deflate : WebSocketConfiguration()))
            }
            // A member has joined once its own message comes back to it.
            for (i, m) in members.enumerated() {
                try await m.send(text: "join \(i)")
                do { let ok = await Self.skip(m, until: .text("join \(i)")); XCTAssertTrue(ok, "member \(i) joins") }
            }
            try await members[3].send(text: "to everyone")
            for (j, m) in members.enumerated() {
                do { let ok = await Self.skip(m, until: .text("to everyone")); XCTAssertTrue(ok, "member \(j)") }
            }
            await members[0].close()
            try await members[1].send(binary: [1, 2, 3])
            for m in members[1...] { do { let ok = await Self.skip(m, until: .binary([1, 2, 3])); XCTAssertTrue(ok) } }
            for m in members[1...] { await m.close() }
            XCTAssertEqual(members[1].missed, 0)
        }
    }

    /// Reads until `wanted` arrives (true) or the connection ends or stalls (false).
    static func skip(_ socket: WebSocket, until wanted: WebSocketMessage) async -> Bool {
        while let m = await socket.next() { if m == wanted { return true } }
        return false
    }

    /// Stopping the server says goodbye to open WebSockets with 1001 instead of cutting them.
    func testServerStopClosesWith1001() async throws {
        let server = try await TestServer.start(routes: webSocketRoutes, registry: webSocketTestRegistry())
        let socket: WebSocket
        do {
            socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/echo")
            try await socket.send(text: "before")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("before")) }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
        do { let got = await socket.next(); XCTAssertNil(got) }
        XCTAssertEqual(socket.closeCode, .goingAway)
        XCTAssertEqual(socket.closeReason, "server shutting down")
    }

    /// The client parses ws:// URLs and refuses what it cannot do.
    func testClientURLs() async throws {
        do {
            _ = try await WebSocketClient.connect(to: "wss://127.0.0.1:1/")
            XCTFail("nothing listens on port 1")
        } catch {
            XCTAssertTrue("\(error)".contains("refused"), "\(error)")
        }
        do {
            _ = try await WebSocketClient.connect(to: "http://127.0.0.1/")
            XCTFail("not a ws URL")
        } catch let error as WebSocketError {
            guard case .invalidURL = error else { return XCTFail("\(error)") }
        }
        try await withEchoServer { server in
            let socket = try await WebSocketClient.connect(to: "ws://localhost:\(server.port)/echo?x=1#frag")
            try await socket.send(text: "via localhost")
            do { let got = await socket.next(); XCTAssertEqual(got, .text("via localhost")) }
            await socket.close()
        }
    }
}
