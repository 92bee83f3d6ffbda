import QuantumCore

/// `websocket_echo`: claims WebSocket upgrades and sends every message back as it came (text as
/// text, binary as binary) — an endpoint for conformance tests (Autobahn) and for checking a
/// setup. Requests that do not ask for a WebSocket go on down the chain.
///
/// ```json
/// {"handler": "websocket_echo", "max_message_size": "16MiB", "compression": true,
///  "ping_interval": "30s", "ping_timeout": "20s", "subprotocols": ["echo"], "broadcast": false}
/// ```
/// With `broadcast`, every message goes to every connection of this handler instead (a chat
/// room); a peer 256 KiB or more behind misses messages rather than holding the others back.
/// `compression` is `true`/`false` or an object with permessage-deflate's parameters:
/// `server_no_context_takeover`, `client_no_context_takeover`, `server_max_window_bits`,
/// `client_max_window_bits` (what the server asks of clients), `level`, `mem_level`. The server's
/// window defaults to 12 bits and `mem_level` to 5 (about 40 KiB per compressing connection).
public struct WebSocketEcho: HandlerModule {
    public static let moduleID = "http.handlers.websocket_echo"

    public var maxMessageSize: ByteSize?
    public var compression: CompressionConfig?
    public var pingInterval: CaddyDuration?
    public var pingTimeout: CaddyDuration?
    public var subprotocols: [String]?
    public var broadcast: Bool?
    /// The connections of this handler, for `broadcast`.
    private var room = WebSocketGroup()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxMessageSize = "max_message_size", compression, pingInterval = "ping_interval", pingTimeout = "ping_timeout", subprotocols
        case broadcast
    }

    /// permessage-deflate settings: a boolean, or an object of parameters (which enables it).
    public struct CompressionConfig: Decodable, Sendable {
        public var enabled: Bool
        public var settings: WebSocketCompression

        enum CodingKeys: String, CodingKey, CaseIterable {
            case serverNoContextTakeover = "server_no_context_takeover", clientNoContextTakeover = "client_no_context_takeover"
            case serverMaxWindowBits = "server_max_window_bits", clientMaxWindowBits = "client_max_window_bits"
            case level, memLevel = "mem_level"
        }

        public init(from decoder: any Decoder) throws {
            if let flag = try? decoder.singleValueContainer().decode(Bool.self) {
                enabled = flag
                settings = WebSocketCompression()
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func bits(_ key: CodingKeys) throws -> Int? {
                guard let v = try c.decodeIfPresent(Int.self, forKey: key) else { return nil }
                guard (8...15).contains(v) else { throw ConfigError(codingPath: decoder.codingPath + [key], "window bits must be 8 to 15, not \(v)") }
                return v
            }
            let level = try c.decodeIfPresent(Int.self, forKey: .level)
            if let level, !(-1...9).contains(level) { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.level], "level must be -1 to 9") }
            let memLevel = try c.decodeIfPresent(Int.self, forKey: .memLevel)
            if let memLevel, !(1...9).contains(memLevel) { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.memLevel], "mem_level must be 1 to 9") }
            enabled = true
            settings = WebSocketCompression(
                noContextTakeover: try c.decodeIfPresent(Bool.self, forKey: .serverNoContextTakeover) ?? false,
                requestPeerNoContextTakeover: try c.decodeIfPresent(Bool.self, forKey: .clientNoContextTakeover) ?? false,
                maxWindowBits: try bits(.serverMaxWindowBits) ?? 12,
                peerMaxWindowBits: try bits(.clientMaxWindowBits) ?? 15,
                level: level ?? -1, memoryLevel: memLevel ?? 5)
        }
    }

    /// The connection settings this configuration gives.
    public var configuration: WebSocketConfiguration {
        var c = WebSocketConfiguration()
        if let m = maxMessageSize, m.bytes > 0 { c.maxMessageSize = m.bytes }
        if let compression, compression.enabled { c.compression = compression.settings }
        if let p = pingInterval?.positiveNanos { c.pingInterval = .nanoseconds(Int64(p)) }
        if let t = pingTimeout?.positiveNanos { c.pingTimeout = .nanoseconds(Int64(t)) }
        return c
    }

    public func validate() throws {
        try pingInterval?.requireNonNegative("ping_interval")
        try pingTimeout?.requireNonNegative("ping_timeout")
    }

    public init(configuration: WebSocketConfiguration = WebSocketConfiguration()) {
        maxMessageSize = ByteSize(bytes: configuration.maxMessageSize)
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard WebSocketHandshake.isWebSocketRequest(request) else { return try await next(request, context) }
        if broadcast == true {
            let room = self.room
            return WebSocketUpgrade.claim(request, subprotocols: subprotocols ?? [], configuration: configuration) { socket in
                room.add(socket)
                defer { room.remove(socket) }
                for await message in socket { room.broadcast(message) }
            }
        }
        return WebSocketUpgrade.claim(request, subprotocols: subprotocols ?? [], configuration: configuration) { socket in
            for await message in socket {
                try await socket.send(message)
            }
        }
    }
}
