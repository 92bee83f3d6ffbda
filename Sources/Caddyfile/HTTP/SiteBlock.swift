import QuantumCore

/// A site block after its directives ran: the values they produced, grouped by class (Caddy's
/// `serverBlock` with its "pile").
struct SiteBlock {
    /// Index of the block in the Caddyfile, to tell blocks apart when comparing.
    var index: Int
    var block: ServerBlock
    var pile: [String: [ConfigValue]] = [:]
    /// The keys this copy of the block is served under (all keys, or those of one listener).
    var keys: [String]
    var addresses: [SiteAddress] = []

    /// Hosts named by the keys; empty when a key matches any host (unless for loggers, which
    /// then skip it, and name hosts on non-standard ports with the port).
    func hosts(loggerMode: Bool) -> [String] {
        var out: [String] = []
        for a in addresses {
            if a.host.isEmpty {
                if !loggerMode { return [] }
                continue
            }
            let h = loggerMode && !a.port.isEmpty && a.port != "80" && a.port != "443" ? SiteAddress.joinHostPort(a.host, a.port) : a.host
            if !out.contains(h) { out.append(h) }
        }
        return out
    }

    var hasCatchAllKey: Bool { addresses.contains { $0.host.isEmpty } }

    /// Same block served under the same keys.
    func sameAs(_ other: SiteBlock) -> Bool { index == other.index && keys == other.keys }
}
