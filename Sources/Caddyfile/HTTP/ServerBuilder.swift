import QuantumCore

/// Builds one server per pairing (Caddy's `serversFromPairings`): site order by specificity,
/// a terminal route per site with its host matchers, TLS connection policies, automatic-HTTPS
/// fields, error routes and access-log associations.
struct ServerBuilder {
    let state: AdapterState

    struct Server {
        var name: String
        var listen: [String]
        var routes: [Route] = []
        var errorRoutes: [Route]?
        var tlsPolicies: [JSONValue] = []
        var autoHTTPS: JSONValue?
        var logs: JSONValue?
        var listenerWrappers: [JSONValue] = []
        var namedRoutes: [(String, JSONValue)] = []
        var extra: [(String, JSONValue)] = []

        var json: JSONValue {
            var members: [(String, JSONValue?)] = [("listen", .strings(listen))]
            members.append(("listener_wrappers", listenerWrappers.isEmpty ? nil : .array(listenerWrappers)))
            members.append(("routes", routes.isEmpty ? nil : .array(routes.map(\.json))))
            members.append(("errors", errorRoutes.map { .object([("routes", .array($0.map(\.json)))]) }))
            members.append(("tls_connection_policies", tlsPolicies.isEmpty ? nil : .array(tlsPolicies)))
            members.append(("automatic_https", autoHTTPS))
            members.append(("logs", logs))
            members.append(("named_routes", namedRoutes.isEmpty ? nil : .object(namedRoutes.sorted { $0.0 < $1.0 })))
            var object = JSONValue.object(members)
            for (k, v) in extra { object.set(k, v) }
            return object
        }
    }

    func servers(from pairings: [Pairing]) throws -> [Server] {
        let options = state.options
        let defaultSNI = options.defaultSNI ?? ""
        let httpPort = String(options.httpPort ?? 80), httpsPort = String(options.httpsPort ?? 443)
        let autoHTTPS = options.autoHTTPS ?? "on"
        var servers: [Server] = []

        for (i, pairing) in pairings.enumerated() {
            for (j, a) in pairing.blocks.enumerated() {
                for key in a.block.keys {
                    for (k, b) in pairing.blocks.enumerated() where k != j && b.block.keys.contains(key) {
                        throw CaddyfileError("ambiguous site definition: \(key)")
                    }
                }
            }
            var server = Server(name: "srv\(i)", listen: pairing.addresses)
            var auto: [(String, JSONValue?)] = []
            switch autoHTTPS {
            case "off": auto.append(("disable", .bool(true)))
            case "disable_redirects": auto.append(("disable_redirects", .bool(true)))
            case "disable_certs": auto.append(("disable_certificates", .bool(true)))
            case "ignore_loaded_certs": auto.append(("ignore_loaded_certificates", .bool(true)))
            default: break
            }
            var skip: [String] = []

            var hasCatchAllPolicy = false, qualifiesForTLS = false
            var autoHTTPSWillAddPolicy = autoHTTPS != "off"
            let anyLogs = pairing.blocks.contains { !($0.pile["custom_log"] ?? []).isEmpty }
            var logDefault: String?, loggerNames: [(String, String)] = [], skipHosts: [String] = [], skipUnmapped = false

            for site in pairing.blocks {
                let matcherSets = Self.matcherSets(for: site)
                var hosts = site.hosts(loggerMode: false)

                for value in site.pile["tls.connection_policy"] ?? [] {
                    guard var policy = value.json else { continue }
                    if !defaultSNI.isEmpty && hosts.contains(defaultSNI) {
                        hosts.append("")
                        policy.set("default_sni", .string(defaultSNI))
                    }
                    if !hosts.isEmpty {
                        policy.set("match", .object([("sni", .strings(hosts))]))
                    } else if !defaultSNI.isEmpty {
                        policy.set("default_sni", .string(defaultSNI))
                    }
                    if !Self.policySettingsEmpty(policy) {
                        server.tlsPolicies.append(policy)
                        hasCatchAllPolicy = hosts.isEmpty
                    }
                }

                for address in site.addresses {
                    if Self.listenersUseAnyPort(server.listen, otherThan: httpPort) && address.scheme == "http" && !address.host.isEmpty {
                        if !skip.contains(address.host) { skip.append(address.host) }
                    }
                    if address.scheme == "https" || (address.scheme != "http" && !address.host.isEmpty && address.port != httpPort) {
                        qualifiesForTLS = true
                    }
                    autoHTTPSWillAddPolicy = autoHTTPSWillAddPolicy && (address.port == httpsPort || (address.port != httpPort && !address.host.isEmpty))
                }

                for value in site.pile["listener_wrapper"] ?? [] {
                    if let j = value.json { server.listenerWrappers.append(j) }
                }

                let subroute = try RouteBuilder.buildSubroute(site.pile["route"] ?? [], state: state, sort: true)
                server.routes = Self.append(subroute, matchers: matcherSets, to: server.routes, soleSite: pairing.blocks.count == 1)

                if let errorValues = site.pile["error_route"] {
                    var errors = server.errorRoutes ?? []
                    for v in errorValues {
                        if case .routes(let routes) = v.value {
                            errors = Self.append(Subroute(routes: routes), matchers: matcherSets, to: errors, soleSite: pairing.blocks.count == 1)
                        }
                    }
                    server.errorRoutes = errors
                }

                for value in site.pile["named_route"] ?? [] {
                    guard case .strings(let names) = value.value else { continue }
                    for name in names {
                        for (n, route) in try NamedRoutes.closure(of: name, state: state) where !server.namedRoutes.contains(where: { $0.0 == n }) {
                            server.namedRoutes.append((n, route.json))
                        }
                    }
                }

                let logHosts = site.hosts(loggerMode: true)
                for value in site.pile["custom_log"] ?? [] {
                    guard case .log(let log) = value.value else { continue }
                    if site.hasCatchAllKey && log.hostnames.isEmpty {
                        logDefault = log.name
                    } else if !log.hostnames.isEmpty {
                        for h in log.hostnames { Self.put(&loggerNames, h, log.name) }
                    } else {
                        for h in logHosts { Self.put(&loggerNames, h, log.name) }
                    }
                }
                if anyLogs && (site.pile["custom_log"] ?? []).isEmpty {
                    if hosts.isEmpty { skipUnmapped = true }
                    skipHosts += logHosts
                }
            }
            if anyLogs {
                server.logs = .object([
                    ("default_logger_name", logDefault.map(JSONValue.string)),
                    ("logger_names", loggerNames.isEmpty ? nil : .object(loggerNames.map { ($0.0, .string($0.1)) }.sorted { $0.0 < $1.0 })),
                    ("skip_hosts", skipHosts.isEmpty ? nil : .strings(skipHosts)),
                    ("skip_unmapped_hosts", skipUnmapped ? .bool(true) : nil),
                ])
            }

            try Self.detectConflictingSchemes(server, pairing.blocks, httpPort: httpPort, httpsPort: httpsPort)

            if qualifiesForTLS && !hasCatchAllPolicy && (!server.tlsPolicies.isEmpty || !autoHTTPSWillAddPolicy || !defaultSNI.isEmpty) {
                server.tlsPolicies.append(.object([("default_sni", defaultSNI.isEmpty ? nil : .string(defaultSNI))]))
            }
            do {
                server.tlsPolicies = try TLSPolicyMerging.consolidate(server.tlsPolicies)
            } catch let error as CaddyfileError {
                throw CaddyfileError("consolidating TLS connection policies for server \(i): \(error.message)")
            }
            server.routes = RouteBuilder.consolidate(server.routes)
            if !skip.isEmpty { auto.append(("skip", .strings(skip))) }
            if !auto.isEmpty || autoHTTPS != "on" { server.autoHTTPS = .object(auto) }
            servers.append(server)
        }
        try ServerOptionsApplier.apply(state.options.servers, to: &servers)
        return servers
    }

    private static func put(_ list: inout [(String, String)], _ key: String, _ value: String) {
        list.removeAll { $0.0 == key }
        list.append((key, value))
    }

    /// Adds a site's routes: bare when it is the only site and matches every host, otherwise as
    /// one terminal route (host matchers, a subroute) so only the first matching site runs.
    static func append(_ subroute: Subroute, matchers: [JSONValue], to list: [Route], soleSite: Bool) -> [Route] {
        if matchers.isEmpty && subroute.routes.isEmpty && subroute.errors == nil { return list }
        // Bare routes for a lone catch-all site, unless a route matches on host: auto-HTTPS would
        // take that host for a site name, so then the routes go in a subroute that hides it.
        let hasHostMatcher = subroute.routes.contains { $0.match.contains { $0["host"] != nil } }
        if matchers.isEmpty && soleSite && !hasHostMatcher { return list + subroute.routes }
        var route = Route(terminal: true)
        route.match = matchers
        if !subroute.routes.isEmpty || subroute.errors != nil { route.handle = [subroute.handlerJSON] }
        if route.match.isEmpty && route.handle.isEmpty { return list }
        return list + [route]
    }

    /// The host and path matcher sets of a site's keys (none when a key matches all hosts).
    static func matcherSets(for site: SiteBlock) -> [JSONValue] {
        var pairs: [(hosts: [String], paths: [String])] = []
        var catchAll = false
        for address in site.addresses {
            var chosen = pairs.firstIndex { ($0.paths.isEmpty && address.path.isEmpty) || ($0.paths.count == 1 && $0.paths[0] == address.path) }
            if chosen == nil {
                pairs.append((hosts: [], paths: address.path.isEmpty ? [] : [address.path]))
                chosen = pairs.count - 1
            }
            if address.host.isEmpty && !catchAll {
                pairs[chosen!].hosts = []
                catchAll = true
            }
            if catchAll { continue }
            if !address.host.isEmpty && !pairs[chosen!].hosts.contains(address.host) { pairs[chosen!].hosts.append(address.host) }
        }
        return pairs.compactMap { pair in
            let set = JSONValue.object([("host", pair.hosts.isEmpty ? nil : .strings(pair.hosts)), ("path", pair.paths.isEmpty ? nil : .strings(pair.paths))])
            return set.objectMembers.isEmpty ? nil : set
        }
    }

    /// Most specific sites first: longer hosts, non-wildcards before wildcards, catch-alls last.
    static func sortedBySpecificity(_ blocks: [SiteBlock]) -> [SiteBlock] {
        func info(_ b: SiteBlock) -> (host: String, path: String, wildcard: Bool) {
            var host = "", path = "", wildcard = false
            for a in b.addresses {
                if a.host.contains("*") || a.host.isEmpty { wildcard = true }
                if specificity(a.host) > specificity(host) { host = a.host }
                if specificity(a.path) > specificity(path) { path = a.path }
            }
            return (host, path, wildcard)
        }
        func less(_ i: SiteBlock, _ j: SiteBlock) -> Bool {
            let a = info(i), b = info(j)
            if specificity(a.host) == 0 { return false }
            if specificity(b.host) == 0 { return true }
            if a.wildcard != b.wildcard { return b.wildcard }
            if specificity(a.host) == specificity(b.host) { return a.path.utf8.count > b.path.utf8.count }
            return specificity(a.host) > specificity(b.host)
        }
        return stableSorted(blocks, by: less)
    }

    static func specificity(_ s: String) -> Int {
        var length = s.utf8.count - s.filter { $0 == "*" }.count
        var rest = Substring(s)
        while rest.first == "{", let end = rest.firstIndex(of: "}") {
            length -= rest.distance(from: rest.startIndex, to: end) + 1
            rest = rest[rest.index(after: end)...]
        }
        return length
    }

    static func listenersUseAnyPort(_ listeners: [String], otherThan port: String) -> Bool {
        guard let other = Int(port) else { return false }
        for listener in listeners {
            guard let range = portRange(listener) else { continue }
            if other < range.lowerBound || other > range.upperBound { return true }
        }
        return false
    }

    static func portRange(_ listener: String) -> ClosedRange<Int>? {
        var address = listener
        if let network = NetworkAddress.network(of: address) {
            if network.hasPrefix("unix") { return 0...0 }
            address = String(address.dropFirst(network.count + 1))
        }
        guard let (_, port) = SiteAddress.splitHostPort(address) else { return nil }
        let parts = port.split(separator: "-")
        guard let start = parts.first.flatMap({ Int($0) }) else { return nil }
        let end = parts.count > 1 ? Int(parts[1]) ?? start : start
        return start...max(start, end)
    }

    static func detectConflictingSchemes(_ server: Server, _ blocks: [SiteBlock], httpPort: String, httpsPort: String) throws {
        var mode = ""
        func setHTTP(_ a: SiteAddress) throws {
            if mode == "HTTPS" {
                var message = "server listening on \(goList(server.listen)) is configured for HTTPS and cannot natively multiplex HTTP and HTTPS: \(a.original)"
                if a.scheme.isEmpty && a.host.isEmpty { message += " (try specifying https:// in the address)" }
                throw CaddyfileError(message)
            }
            if !server.tlsPolicies.isEmpty {
                throw CaddyfileError("server listening on \(goList(server.listen)) is HTTP, but attempts to configure TLS connection policies")
            }
            mode = "HTTP"
        }
        func setHTTPS(_ a: SiteAddress) throws {
            if mode == "HTTP" {
                throw CaddyfileError("server listening on \(goList(server.listen)) is configured for HTTP and cannot natively multiplex HTTP and HTTPS: \(a.original)")
            }
            mode = "HTTPS"
        }
        for block in blocks {
            for a in block.addresses {
                if a.scheme == "http" || a.port == httpPort {
                    try setHTTP(a)
                } else if a.scheme == "https" || a.port == httpsPort || !server.tlsPolicies.isEmpty {
                    try setHTTPS(a)
                } else if a.host.isEmpty {
                    try setHTTP(a)
                }
            }
        }
    }

    static func goList(_ list: [String]) -> String { "[" + list.joined(separator: " ") + "]" }

    static func policySettingsEmpty(_ policy: JSONValue) -> Bool {
        policy.objectMembers.allSatisfy { $0.0 == "match" || $0.1.isEmptyValue }
    }
}

/// A stable sort with a strict "less" predicate.
func stableSorted<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
    items.enumerated().sorted { a, b in
        if less(a.element, b.element) { return true }
        if less(b.element, a.element) { return false }
        return a.offset < b.offset
    }.map(\.element)
}
