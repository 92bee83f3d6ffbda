/// A server's `trusted_proxies`: `{"source": "static", "ranges": ["10.0.0.0/8", "private_ranges"]}`.
package struct TrustedProxies: Decodable, Sendable {
    public var ranges: [CIDR]

    enum CodingKeys: String, CodingKey, CaseIterable { case source, ranges }

    public init(ranges: [CIDR]) { self.ranges = ranges }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let source = try c.decode(String.self, forKey: .source)
        guard source == "static" else {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.source], "unknown IP source \"\(source)\"; known: static")
        }
        ranges = try CIDR.parseList(try c.decodeIfPresent([String].self, forKey: .ranges) ?? [],
                                    at: decoder.codingPath + [CodingKeys.ranges])
    }

    public func contains(_ bytes: [UInt8]) -> Bool { ranges.contains { $0.contains(bytes) } }
}

/// Works out the client's address the way Caddy does: the peer, unless the peer is a trusted
/// proxy, in which case the first address in `client_ip_headers` (or, when strict, the first
/// untrusted one from the right).
package struct ClientIPResolver: Sendable {
    public var trusted: TrustedProxies
    public var headers: [String]
    public var strict: Bool

    public init(trusted: TrustedProxies, headers: [String] = ["X-Forwarded-For"], strict: Bool = false) {
        self.trusted = trusted
        self.headers = headers
        self.strict = strict
    }

    public func clientIP(for request: Request) -> String {
        let peer = request.connection.remoteAddress
        guard trusted.contains(peer.bytes) else { return peer.host }
        for name in headers {
            let values = request.headers.values(name)
            if values.isEmpty { continue }
            let candidates = values.flatMap { $0.split(separator: ",") }.map { String($0.trimmingOWS()) }
            let parsed = candidates.compactMap { c -> (String, [UInt8])? in IPAddress.parse(c).map { (c, $0) } }
            guard parsed.count == candidates.count, let first = parsed.first else { continue }
            if !strict { return first.0 }
            for (text, bytes) in parsed.reversed() where !trusted.contains(bytes) { return text }
            return first.0
        }
        return peer.host
    }
}
