import QuantumCore

/// Adapts a Caddyfile to Caddy JSON as Caddy 2.6.2's `caddy adapt` does: global options, site
/// blocks into servers by listener address, routes in directive order, the TLS, PKI and logging
/// sections automatic HTTPS needs.
public enum CaddyfileAdapter {
    /// The result: the config, and warnings to print.
    public struct Result {
        /// The Caddy JSON config.
        public var config: JSONValue
        /// What to tell the user (an unformatted file, a deprecated subdirective...).
        public var warnings: [CaddyfileWarning]
    }

    /// Adapts Caddyfile `text`, read from `file` (imports resolve beside it).
    public static func adapt(_ text: String, file: String = "Caddyfile", directory: String? = nil,
                             environment: @escaping (String) -> String? = { ProcessInfo.processInfo.environment[$0] }) throws -> Result {
        let (blocks, parseWarnings) = try CaddyfileParser.parseWithWarnings(text, file: file, directory: directory, environment: environment)
        let state = AdapterState()
        state.warnings += parseWarnings
        if let line = CaddyfileFormatter.firstUnformattedLine(text) {
            state.warnings.append(CaddyfileWarning(file: file, line: line, message: "Caddyfile input is not formatted; run the 'quantum fmt' command to fix inconsistencies"))
        }
        let config = try HTTPConfigBuilder(state: state).build(blocks)
        return Result(config: config, warnings: state.warnings)
    }
}

/// The steps of one adaptation.
struct HTTPConfigBuilder {
    let state: AdapterState

    func build(_ input: [ServerBlock]) throws -> JSONValue {
        for block in input {
            for (j, key) in block.keys.enumerated() {
                if j == 0 && key.hasPrefix("@") {
                    throw CaddyfileError("\(block.keyTokens[j].file):\(block.keyTokens[j].line): cannot define a matcher outside of a site block: '\(key)'")
                }
                if Directives.registry[key] != nil {
                    throw CaddyfileError("\(block.keyTokens[j].file):\(block.keyTokens[j].line): parsed '\(key)' as a site address, but it is a known directive; directives must appear in a site block")
                }
            }
        }
        var blocks = input
        if let first = blocks.first, first.keys.isEmpty {
            try GlobalOptionsParser.evaluate(first, state: state)
            blocks.removeFirst()
        }
        try NamedRoutes.extract(blocks.filter(\.isNamedRoute), into: state)
        blocks.removeAll(where: \.isNamedRoute)
        var sites: [SiteBlock] = []
        for (index, var block) in blocks.enumerated() {
            for s in block.segments.indices {
                for t in block.segments[s].indices {
                    block.segments[s][t].text = Shorthands.expand(block.segments[s][t].text)
                }
            }
            if block.keys.isEmpty {
                throw CaddyfileError("server block without any key is global configuration, and if used, it must be first")
            }
            var site = SiteBlock(index: index, block: block, keys: block.keys)
            var defs: [String: JSONValue] = [:]
            for segment in block.segments where segment[0].text.hasPrefix("@") {
                try MatcherDefinitions.parse(Dispenser(Self.segments(named: segment[0].text, in: block)), into: &defs, state: state)
            }
            for segment in block.segments where !segment[0].text.hasPrefix("@") {
                let name = segment[0].text
                guard let parse = Directives.registry[name] else {
                    var message = "\(segment[0].file):\(segment[0].line): unrecognized directive: \(name)"
                    if !block.hasBraces {
                        message += "\nDid you mean to define a second site? If so, you must use curly braces around each site to separate their configurations."
                    }
                    throw CaddyfileError(message)
                }
                var helper = Helper(d: Dispenser(segment), state: state, matcherDefs: defs, parentBlock: block)
                let values: [ConfigValue]
                do {
                    values = try parse(&helper)
                } catch let error as CaddyfileError {
                    throw CaddyfileError("parsing caddyfile tokens for '\(name)': \(error.message)")
                }
                for var v in values {
                    v.directive = Directives.normalizedName(name)
                    site.pile[v.cls, default: []].append(v)
                }
            }
            for name in state.invoked { site.pile["named_route", default: []].append(ConfigValue("named_route", .strings([name]))) }
            state.invoked = []
            sites.append(site)
        }
        let listenerMap = try mapAddressesToSites(sites)
        // Most specific site first in each server; the TLS app sees the same order.
        let pairings = consolidate(listenerMap).map { pairing in
            var p = pairing
            p.blocks = ServerBuilder.sortedBySpecificity(p.blocks)
            return p
        }
        let servers = try ServerBuilder(state: state).servers(from: pairings)
        return try ConfigAssembler(state: state).assemble(servers: servers, pairings: pairings)
    }

    /// All segments of one directive (matcher definitions of one name may span several lines).
    private static func segments(named name: String, in block: ServerBlock) -> [Token] {
        block.segments.filter { $0.first?.text == name }.flatMap { $0 }
    }

    /// Listener address → the site blocks it serves, each with the keys it serves there.
    func mapAddressesToSites(_ sites: [SiteBlock]) throws -> [String: [SiteBlock]] {
        var map: [String: [SiteBlock]] = [:]
        for (i, site) in sites.enumerated() {
            var keysByListener: [String: [String]] = [:]
            for (j, key) in site.block.keys.enumerated() {
                let listeners: [String]
                do {
                    listeners = try listenerAddresses(for: site, key: key)
                } catch let error as CaddyfileError {
                    throw CaddyfileError("server block \(i), key \(j) (\(key)): determining listener address: \(error.message)")
                }
                for l in listeners { keysByListener[l, default: []].append(key) }
            }
            for listener in keysByListener.keys.sorted() {
                var copy = site
                copy.keys = keysByListener[listener]!
                copy.addresses = try copy.keys.map { try SiteAddress(parsing: $0).normalized }
                map[listener, default: []].append(copy)
            }
        }
        return map
    }

    func listenerAddresses(for site: SiteBlock, key: String) throws -> [String] {
        let address: SiteAddress
        do {
            address = try SiteAddress(parsing: key).normalized
        } catch let error as CaddyfileError {
            throw CaddyfileError("parsing key: \(error.message)")
        }
        let httpPort = String(state.options.httpPort ?? 80), httpsPort = String(state.options.httpsPort ?? 443)
        var port = httpsPort
        if !address.port.isEmpty { port = address.port } else if address.scheme == "http" { port = httpPort }
        if (address.scheme == "http" && port == httpsPort) || (address.scheme == "https" && port == httpPort) {
            throw CaddyfileError("[\(key)] scheme and port violate convention")
        }
        var hosts = (site.pile["bind"] ?? []).flatMap { v -> [String] in
            if case .strings(let s) = v.value { return s }
            return []
        }
        if hosts.isEmpty { hosts = state.options.defaultBind ?? [""] }
        var listeners: Set<String> = []
        for host in hosts {
            // As Caddy joins them: brackets only around an IPv6 host, the default `tcp` network left out.
            let network = NetworkAddress.network(of: host)
            if let network, network.hasPrefix("unix") {
                listeners.insert(host)
                continue
            }
            var bare = network.map { String(host.dropFirst($0.count + 1)) } ?? host
            if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = String(bare.dropFirst().dropLast()) }
            let joined = SiteAddress.joinHostPort(bare, port)
            listeners.insert(network == nil || network == "tcp" ? joined : "\(network!)/\(joined)")
        }
        return listeners.sorted()
    }

    /// Groups listener addresses that serve exactly the same blocks into one server, sorted.
    func consolidate(_ map: [String: [SiteBlock]]) -> [Pairing] {
        var remaining = map
        var pairings: [Pairing] = []
        for address in map.keys.sorted() {
            guard let blocks = remaining[address] else { continue }
            var addresses = [address]
            for other in remaining.keys.sorted() where other != address {
                let otherBlocks = remaining[other]!
                if otherBlocks.count == blocks.count && zip(otherBlocks, blocks).allSatisfy({ $0.sameAs($1) }) {
                    addresses.append(other)
                    remaining[other] = nil
                }
            }
            remaining[address] = nil
            pairings.append(Pairing(addresses: addresses.sorted(), blocks: blocks))
        }
        return pairings.sorted { $0.addresses[0] < $1.addresses[0] }
    }
}

/// Listener addresses and the site blocks served on them: one future server.
struct Pairing {
    var addresses: [String]
    var blocks: [SiteBlock]
}

/// Caddy's network address syntax: `network/address` with an optional network prefix.
enum NetworkAddress {
    static func network(of address: String) -> String? {
        guard let slash = address.firstIndex(of: "/") else { return nil }
        let network = String(address[..<slash]).lowercased()
        return ["tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram", "unixpacket", "ip", "ip4", "ip6", "fd", "fdgram"].contains(network) ? network : nil
    }
}

import Foundation
