/// Names a server wants certificates for, as automatic HTTPS found them.
package struct ManagedName: Sendable, Equatable {
    public let name: String
    /// The server's `ignore_loaded_certificates`: manage the name even when a loaded
    /// certificate covers it.
    public let ignoreLoaded: Bool
}

/// Caddy's automatic HTTPS, applied to a decoded config before it runs (Caddy does it when the
/// http app is provisioned), so the running config is explicit about what it serves:
///
/// - A server with qualifying names in its top-level `host` matchers that listens on some port
///   other than `http_port` gets the default TLS connection policy (unless it has policies).
///   Port 0 does not count: an OS-chosen port is a test or embedding listener, left plain.
/// - Its names (minus `skip`, `skip_certificates`; none with `disable_certificates`) get
///   certificates from the automation policies' issuer (the local CA without a policy).
/// - Unless `disable_redirects`, `http_port` on the same interfaces answers those names with a
///   308 to the HTTPS port: routes added to a server already there (before its first route
///   without a host matcher), else a new server `remaining_auto_https_redirects`.
/// - `disable` turns all of it off for the server.
package enum AutomaticHTTPSPlanner {
    public static let redirectServerName = "remaining_auto_https_redirects"

    /// Rewrites `config` and returns the names needing managed certificates.
    public static func apply(to config: inout QuantumConfig) throws -> [ManagedName] {
        guard var http = config.apps.http else { return [] }
        let httpPort = http.httpPort ?? 80
        let httpsPort = http.httpsPort ?? 443
        var managed: [ManagedName] = []
        // Redirect routes wanted per "network/host" of the HTTPS listeners, in server order.
        var redirects: [(key: String, host: String, network: String, route: Route)] = []
        for name in http.servers.keys.sorted() {
            var server = http.servers[name]!
            let auto = server.automaticHTTPS
            if auto?.disable == true { continue }
            let addresses = server.listen.compactMap { try? ListenAddress.parse($0) }
            let httpsPorts = addresses.map { a in (a, a.portRange.filter { $0 != httpPort && $0 != 0 }) }
            guard httpsPorts.contains(where: { !$0.1.isEmpty }) else { continue }
            let skip = (auto?.skip ?? []).map { $0.lowercased() }
            let names = hostNames(server.routes).filter { SiteNames.qualifies($0) && !SiteNames.contains(skip, $0) }
            if names.isEmpty { continue }
            if server.tlsConnectionPolicies == nil { server.tlsConnectionPolicies = [TLSConnectionPolicyConfig()] }
            if auto?.disableCertificates != true {
                let skipCerts = (auto?.skipCertificates ?? []).map { $0.lowercased() }
                for n in names where !SiteNames.contains(skipCerts, n) && !managed.contains(where: { $0.name == n }) {
                    managed.append(ManagedName(name: n, ignoreLoaded: auto?.ignoreLoadedCertificates ?? false))
                }
            }
            if auto?.disableRedirects != true {
                for (address, ports) in httpsPorts {
                    for port in ports {
                        let route = Route(match: [MatcherSet([SiteNamesMatcher(names: names)])],
                                          handlers: [HTTPSRedirect(port: port == 443 || port == httpsPort ? nil : port)], terminal: true)
                        redirects.append(("\(address.network)/\(address.host)", address.host, address.network, route))
                    }
                }
            }
            http.servers[name] = server
        }
        addRedirects(redirects, httpPort: httpPort, to: &http)
        config.apps.http = http
        return managed
    }

    /// Lowercased names of the `host` matchers in a server's top-level routes, in order, once each.
    static func hostNames(_ routes: RouteList) -> [String] {
        var out: [String] = []
        for route in routes.routes {
            for set in route.match.sets {
                for case let matcher as any HostNamesMatcher in set.matchers {
                    for h in matcher.hosts.map({ $0.lowercased() }) where !out.contains(h) { out.append(h) }
                }
            }
        }
        return out
    }

    private static func addRedirects(_ redirects: [(key: String, host: String, network: String, route: Route)],
                                     httpPort: Int, to http: inout HTTPAppConfig) {
        var keys: [String] = []
        for r in redirects where !keys.contains(r.key) { keys.append(r.key) }
        var newListen: [String] = []
        var newRoutes: [Route] = []
        for key in keys {
            let routes = redirects.filter { $0.key == key }.map(\.route)
            let first = redirects.first { $0.key == key }!
            // A server already on this interface's HTTP port takes the routes.
            let existing = http.servers.keys.sorted().first { name in
                http.servers[name]!.listen.contains { text in
                    guard let a = try? ListenAddress.parse(text) else { return false }
                    return a.network == first.network && a.host == first.host && a.portRange.contains(httpPort)
                }
            }
            if let existing {
                var server = http.servers[existing]!
                let index = server.routes.routes.firstIndex { route in
                    !route.match.sets.contains { set in set.matchers.contains { $0 is any HostNamesMatcher } }
                } ?? server.routes.routes.count
                server.routes.routes.insert(contentsOf: routes, at: index)
                http.servers[existing] = server
            } else {
                let host = first.host.contains(":") ? "[\(first.host)]" : first.host
                let listen = (first.network == "tcp" ? "" : first.network + "/") + "\(host):\(httpPort)"
                if !newListen.contains(listen) { newListen.append(listen) }
                newRoutes += routes
            }
        }
        if !newListen.isEmpty {
            http.servers[redirectServerName] = ServerConfig(
                listen: newListen, routes: RouteList(newRoutes),
                path: [NameKey("apps"), NameKey("http"), NameKey("servers"), NameKey(redirectServerName)])
        }
    }
}
