/// An IP range in CIDR notation, or a single address.
package struct CIDR: Sendable, Equatable {
    /// Caddy's `private_ranges` shorthand.
    public static let privateRanges = ["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8", "127.0.0.1/8", "fd00::/8", "::1"]

    public let network: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first else { return nil }
        var host = String(first)
        if let pct = host.firstIndex(of: "%") { host = String(host[..<pct]) }
        guard let bytes = IPAddress.parse(host) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= bits else { return nil }
            prefix = p
        } else {
            prefix = bits
        }
        network = bytes
    }

    /// Parses config ranges (`"10.0.0.0/8"`, `"::1"`, Caddy's `"private_ranges"`); on a bad one,
    /// the error names its index under `path`.
    public static func parseList(_ texts: [String], at path: [any CodingKey]) throws -> [CIDR] {
        var ranges: [CIDR] = []
        for (i, text) in texts.enumerated() {
            for item in text == "private_ranges" ? privateRanges : [text] {
                guard let cidr = CIDR(item) else { throw ConfigError(codingPath: path + [IndexKey(i)], "invalid IP range \"\(text)\"") }
                ranges.append(cidr)
            }
        }
        return ranges
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

