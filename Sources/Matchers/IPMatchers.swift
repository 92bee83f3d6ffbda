import QuantumCore

/// An IP range in CIDR notation, or a single address.
public struct CIDR: Sendable, Equatable {
    public let network: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first else { return nil }
        var host = String(first)
        if let pct = host.firstIndex(of: "%") { host = String(host[..<pct]) }
        guard let bytes = IPAddress.parseV4(host) ?? IPAddress.parseV6(host) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= bits else { return nil }
            prefix = p
        } else {
            prefix = bits
        }
        network = bytes
    }

    public func contains(_ address: [UInt8]) -> Bool {
        var addr = address
        if network.count == 4 && addr.count == 16 && IPAddress.isV4Mapped(addr) { addr = Array(addr[12...]) }
        guard addr.count == network.count else { return false }
        var left = prefix
        for i in 0..<addr.count where left > 0 {
            let take = min(8, left)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if addr[i] & mask != network[i] & mask { return false }
            left -= take
        }
        return true
    }
}

/// Ranges for `remote_ip` / `client_ip` (`private_ranges` expands as in Caddy).
struct IPRanges: Decodable, Sendable {
    var ranges: [CIDR]
    enum CodingKeys: String, CodingKey, CaseIterable { case ranges }

    static let privateRanges = ["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "127.0.0.1/8", "fd00::/8", "::1"]

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let texts = try c.decode([String].self, forKey: .ranges)
        var out: [CIDR] = []
        for (i, t) in texts.enumerated() {
            let expanded = t == "private_ranges" ? Self.privateRanges : [t]
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

/// `client_ip`: the client's address (the peer, since no trusted proxies are configured).
public struct ClientIPMatcher: MatcherModule {
    public static let moduleID = "http.matchers.client_ip"
    var ranges: IPRanges
    public init(from decoder: any Decoder) throws { ranges = try IPRanges(from: decoder) }
    public func matches(_ request: Request, context: inout Context) -> Bool {
        if let ip = context.vars["client_ip"], let bytes = IPAddress.parseV4(ip) ?? IPAddress.parseV6(ip) {
            return ranges.ranges.contains { $0.contains(bytes) }
        }
        return ranges.contains(request.connection.remoteAddress)
    }
}
