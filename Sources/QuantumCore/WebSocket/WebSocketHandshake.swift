/// The opening handshake (RFC 6455 §4): key and accept values, request checks, header values.
package enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// A fresh random `Sec-WebSocket-Key` (16 random bytes, base64).
    public static func makeKey() -> String {
        var rng = SystemRandomNumberGenerator()
        return Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// Whether a request asks for a WebSocket at all: `Upgrade: websocket` over HTTP/1.1, or an
    /// HTTP/2 extended CONNECT with `:protocol websocket` (RFC 8441). Such a request is then
    /// either valid (`validate` returns nil) or answered with 400/426.
    public static func isWebSocketRequest(_ request: Request) -> Bool {
        isExtendedConnect(request) || request.headers.hasToken("websocket", in: "upgrade")
    }

    /// Whether the request is an RFC 8441 extended CONNECT for a WebSocket (HTTP/2): no
    /// `Sec-WebSocket-Key` then, and the answer is a 200 with no `Sec-WebSocket-Accept`.
    public static func isExtendedConnect(_ request: Request) -> Bool {
        request.connectProtocol?.equalsIgnoringASCIICase("websocket") == true
    }

    /// Why a WebSocket upgrade request cannot be accepted, as the response to send: 426 with
    /// `Sec-WebSocket-Version: 13` for another version, 400 for anything else malformed. Nil when valid.
    public static func validate(_ request: Request) -> Response? {
        func bad(_ why: String) -> Response { Response.text("Bad WebSocket handshake: \(why)\n", status: 400) }
        let extended = isExtendedConnect(request)
        if extended {
            // RFC 8441 §4-5: CONNECT on an HTTP/2 stream; the stream itself is the connection.
            guard request.method == "CONNECT" else { return bad("an extended CONNECT must use the CONNECT method") }
        } else {
            guard request.method == "GET" else { return bad("the method must be GET") }
            guard request.proto != "HTTP/1.0" else { return bad("HTTP/1.1 or later is required") }
            guard request.headers.hasToken("upgrade", in: "connection") else { return bad("Connection must include upgrade") }
        }
        let versions = request.headers.values("sec-websocket-version")
        guard !versions.isEmpty else {
            var r = bad("missing Sec-WebSocket-Version")
            r.headers.set("Sec-WebSocket-Version", "13")
            return r
        }
        guard versions.count == 1, versions[0].trimmingOWS() == "13" else {
            var r = Response.text("Unsupported WebSocket version: this server speaks 13\n", status: 426)
            r.headers.set("Sec-WebSocket-Version", "13")
            r.headers.set("Upgrade", "websocket")
            r.headers.set("Connection", "Upgrade")
            return r
        }
        if extended { return nil }  // no key, no accept value: the stream's DATA frames carry the socket
        let keys = request.headers.values("sec-websocket-key")
        guard keys.count == 1, let decoded = Base64.decode(String(keys[0].trimmingOWS())), decoded.count == 16 else {
            return bad("Sec-WebSocket-Key must be 16 bytes in base64")
        }
        if let length = request.headers["content-length"], length.trimmingOWS() != "0" { return bad("the request must have no body") }
        if request.headers.contains("transfer-encoding") { return bad("the request must have no body") }
        return nil
    }

    /// Subprotocols the client offers, in its order of preference.
    public static func offeredSubprotocols(_ request: Request) -> [String] {
        request.headers.values("sec-websocket-protocol").flatMap { $0.split(separator: ",") }
            .map { String($0.trimmingOWS()) }.filter { !$0.isEmpty }
    }
}
