import QuantumCore

/// Ranges for `remote_ip` / `client_ip` (`private_ranges` expands as in Caddy).
struct IPRanges: Decodable, Sendable {
    var ranges: [CIDR]
    enum CodingKeys: String, CodingKey, CaseIterable { case ranges }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let texts = try c.decode([String].self, forKey: .ranges)
        var out: [CIDR] = []
        for (i, t) in texts.enumerated() {
            let expanded = t == "private_ranges" ? CIDR.privateRanges : [t]
            for e in expanded {
                guard let cidr = CIDR(e) else {
                    throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.ranges, IndexKey(i)], "invalid IP range \"\(t)\"")
                }
                out.append(cidr)
            }
        }
        ranges = out
    }

    func contains(_ address: SocketAddress) -> Bool { ranges.contains { $0.contains(address.bytes) } }
}

/// `remote_ip`: the direct peer's address is in one of the ranges.
public struct RemoteIPMatcher: MatcherModule {
    public static let moduleID = "http.matchers.remote_ip"
    var ranges: IPRanges
    public init(from decoder: any Decoder) throws { ranges = try IPRanges(from: decoder) }
    public func matches(_ request: Request, context: inout Context) -> Bool { ranges.contains(request.connection.remoteAddress) }
}

/// `client_ip`: the client's address — the peer, or what a trusted proxy says (the server's
/// `trusted_proxies` and `client_ip_headers`).
public struct ClientIPMatcher: MatcherModule {
    public static let moduleID = "http.matchers.client_ip"
    var ranges: IPRanges
    public init(from decoder: any Decoder) throws { ranges = try IPRanges(from: decoder) }
    public func matches(_ request: Request, context: inout Context) -> Bool {
        if let ip = context.vars["client_ip"], let bytes = IPAddress.parse(ip) {
            return ranges.ranges.contains { $0.contains(bytes) }
        }
        return ranges.contains(request.connection.remoteAddress)
    }
}
