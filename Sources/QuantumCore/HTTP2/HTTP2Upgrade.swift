/// An HTTP/1.1 request that asked to continue as cleartext HTTP/2 (`Upgrade: h2c` with an
/// `HTTP2-Settings` header, RFC 7540 §3.2): it becomes stream 1 after the 101.
struct HTTP2Upgrade {
    let head: RequestHead
    /// The decoded `HTTP2-Settings` payload (a SETTINGS frame body).
    let settings: [UInt8]

    static let switchingProtocols = Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8)

    /// The client connection preface every HTTP/2 connection starts with.
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// The upgrade a bodiless request asks for, if it asks for h2c properly.
    init?(_ head: RequestHead) {
        guard head.framing == .none, head.headers.hasToken("h2c", in: "upgrade"),
              head.headers.hasToken("http2-settings", in: "connection"),
              let text = head.headers["http2-settings"], let settings = Self.base64URL(text) else { return nil }
        self.head = head
        self.settings = settings
    }

    /// base64url without padding, as `HTTP2-Settings` carries it.
    static func base64URL(_ text: String) -> [UInt8]? {
        var s = String(text.trimmingOWS()).replacingOccurrences("-", "+").replacingOccurrences("_", "/")
        while s.utf8.count % 4 != 0 { s += "=" }
        return Base64.decode(s)
    }
}

private extension String {
    func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(map { $0 == a ? b : $0 }) }
}
