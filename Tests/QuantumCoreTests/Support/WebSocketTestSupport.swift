import Quantum
import XCTest

/// `test_ws_greeter`: claims upgrades with subprotocols ["chat", "superchat"], greets with the
/// chosen one, echoes until it gets "bye", then closes with 4001 "done".
struct WebSocketGreeter: HandlerModule {
    static let moduleID = "http.handlers.test_ws_greeter"

    init(from decoder: any Decoder) throws {}

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard WebSocketHandshake.isWebSocketRequest(request) else { return try await next(request, context) }
        return WebSocketUpgrade.claim(request, subprotocols: ["chat", "superchat"]) { socket in
            try await socket.send(text: "hello \(socket.subprotocol ?? "none")")
            for await message in socket {
                if message == .text("bye") {
                    await socket.close(code: WebSocketCloseCode(4001), reason: "done")
                    return
                }
                try await socket.send(message)
            }
        }
    }
}

/// `test_ws_flood`: sends `count` binary messages of 64 KiB (the first 4 bytes number them),
/// counting completed sends on `Board` under `key`, then waits for the client to close.
struct WebSocketFlood: HandlerModule {
    static let moduleID = "http.handlers.test_ws_flood"
    var count = 1000
    var key = "ws-flood"

    enum CodingKeys: String, CodingKey, CaseIterable { case count, key }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 1000
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? "ws-flood"
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let (count, key) = (count, key)
        return WebSocketUpgrade.claim(request) { socket in
            for i in 0..<count {
                var payload = [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 64 * 1024)
                withUnsafeBytes(of: UInt32(i).bigEndian) { payload.replaceSubrange(0..<4, with: $0) }
                try await socket.send(binary: payload)
                Board.shared.add(key, 1)
            }
            await socket.waitUntilClosed()
        }
    }
}

func webSocketTestRegistry() -> ModuleRegistry {
    var r = StandardModules.registry
    r.register(WebSocketGreeter.self)
    r.register(WebSocketFlood.self)
    return r
}

/// The routes the WebSocket end-to-end tests share.
let webSocketRoutes = """
[{"match": [{"path": ["/echo"]}], "handle": [{"handler": "websocket_echo"}], "terminal": true},
 {"match": [{"path": ["/deflate"]}], "handle": [{"handler": "websocket_echo", "compression": true}], "terminal": true},
 {"match": [{"path": ["/small"]}], "handle": [{"handler": "websocket_echo", "max_message_size": 1024}], "terminal": true},
 {"match": [{"path": ["/room"]}], "handle": [{"handler": "websocket_echo", "broadcast": true}], "terminal": true},
 {"match": [{"path": ["/flood"]}], "handle": [{"handler": "test_ws_flood", "count": 1000, "key": "flood-e2e"}], "terminal": true},
 {"match": [{"path": ["/keepalive"]}], "handle": [{"handler": "websocket_echo", "ping_interval": "200ms", "ping_timeout": "300ms"}], "terminal": true},
 {"match": [{"path": ["/greeter"]}], "handle": [{"handler": "test_ws_greeter"}], "terminal": true},
 {"match": [{"path": ["/mixed"]}], "handle": [{"handler": "websocket_echo"}, {"handler": "static_response", "body": "not a websocket"}], "terminal": true},
 {"handle": [{"handler": "static_response", "body": "plain"}]}]
"""

extension WebSocket {
    /// The next message, or nil when the connection closed or `seconds` passed (the socket is
    /// then closed, so nothing waits forever).
    func next(within seconds: Int = 10) async -> WebSocketMessage? {
        let watchdog = Task {
            try await Task.sleep(for: .seconds(seconds))
            await self.close(code: .goingAway, reason: "test timeout")
        }
        defer { watchdog.cancel() }
        return await receive()
    }
}

/// A raw upgrade request with the given extra header lines (each ending in \r\n).
func upgradeRequest(path: String = "/echo", method: String = "GET", version: String = "13",
                    key: String = "dGhlIHNhbXBsZSBub25jZQ==", extra: String = "") -> String {
    var r = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    if !key.isEmpty { r += "Sec-WebSocket-Key: \(key)\r\n" }
    if !version.isEmpty { r += "Sec-WebSocket-Version: \(version)\r\n" }
    return r + extra + "\r\n"
}
