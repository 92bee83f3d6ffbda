/// Caddy's `apps.http`.
package struct HTTPAppConfig: Decodable, Sendable {
    public var httpPort: Int?
    public var httpsPort: Int?
    public var gracePeriod: CaddyDuration?
    public var shutdownDelay: CaddyDuration?
    public var servers: [String: ServerConfig]
    /// Metrics for every server (later Caddy's form).
    public var metrics: MetricsConfig?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case httpPort = "http_port", httpsPort = "https_port", gracePeriod = "grace_period"
        case shutdownDelay = "shutdown_delay", servers, metrics
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        httpPort = try c.decodeIfPresent(Int.self, forKey: .httpPort)
        httpsPort = try c.decodeIfPresent(Int.self, forKey: .httpsPort)
        gracePeriod = try c.decodeIfPresent(CaddyDuration.self, forKey: .gracePeriod)
        shutdownDelay = try c.decodeIfPresent(CaddyDuration.self, forKey: .shutdownDelay)
        servers = try c.decodeIfPresent([String: ServerConfig].self, forKey: .servers) ?? [:]
        metrics = try c.decodeIfPresent(MetricsConfig.self, forKey: .metrics)
    }
}

/// Caddy's `apps.http.servers.NAME`.
package struct ServerConfig: Decodable, Sendable {
    public var listen: [String]
    public var routes: RouteList
    public var errors: ErrorRoutes?
    public var readTimeout: CaddyDuration?
    public var readHeaderTimeout: CaddyDuration?
    public var writeTimeout: CaddyDuration?
    public var idleTimeout: CaddyDuration?
    public var keepaliveInterval: CaddyDuration?
    public var maxHeaderBytes: Int?
    public var automaticHTTPS: AutomaticHTTPS?
    /// Present (even `[{}]`) makes the server TLS, as in Caddy.
    public var tlsConnectionPolicies: [TLSConnectionPolicyConfig]?
    public var protocols: [String]?
    /// The access log (on when present).
    public var logs: ServerLogsConfig?
    public var trustedProxies: TrustedProxies?
    public var clientIPHeaders: [String]?
    public var trustedProxiesStrict: Int?
    public var strictSNIHost: Bool?
    public var listenerWrappers: JSONValue?
    public var enableFullDuplex: Bool?
    /// Metrics for this server (Caddy 2.6.2's form).
    public var metrics: MetricsConfig?
    /// Routes `invoke` handlers run by name.
    public var namedRoutes: NamedRoutes?
    /// The JSON path of this server, for errors found after decoding.
    public var path: [any CodingKey]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, routes, errors
        case readTimeout = "read_timeout", readHeaderTimeout = "read_header_timeout", writeTimeout = "write_timeout"
        case idleTimeout = "idle_timeout", keepaliveInterval = "keepalive_interval", maxHeaderBytes = "max_header_bytes"
        case automaticHTTPS = "automatic_https", tlsConnectionPolicies = "tls_connection_policies", protocols, logs
        case trustedProxies = "trusted_proxies", clientIPHeaders = "client_ip_headers", strictSNIHost = "strict_sni_host"
        case listenerWrappers = "listener_wrappers", enableFullDuplex = "enable_full_duplex", metrics
        case keepaliveIdle = "keepalive_idle", keepaliveCount = "keepalive_count"
        case trustedProxiesStrict = "trusted_proxies_strict"
        case namedRoutes = "named_routes"
    }

    /// A server made by the config itself (automatic HTTPS's redirect server), named by `path`.
    public init(listen: [String], routes: RouteList, path: [any CodingKey]) {
        self.listen = listen
        self.routes = routes
        self.path = path
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = decoder.codingPath
        listen = try c.decodeIfPresent([String].self, forKey: .listen) ?? []
        // Named routes first, in a table of this server's own, so `invoke` handlers (in them
        // too) find theirs whatever the key order.
        let named = NamedRoutes()
        if let scope = try? decoder.provisionContext.shared("http.named_routes.current", make: { NamedRouteScope() }) { scope.current = named }
        if let definitions = try c.decodeIfPresent([String: Route].self, forKey: .namedRoutes) {
            for (name, route) in definitions { named.define(name, route) }
            namedRoutes = named
        }
        routes = try c.decodeIfPresent(RouteList.self, forKey: .routes) ?? RouteList([])
        errors = try c.decodeIfPresent(ErrorRoutes.self, forKey: .errors)
        try named.checkInvokedNamesExist()
        // An `invoke` decoded after this server (outside any server) finds no table to use.
        if let scope = try? decoder.provisionContext.shared("http.named_routes.current", make: { NamedRouteScope() }) { scope.current = NamedRoutes(closed: true) }
        readTimeout = try c.decodeIfPresent(CaddyDuration.self, forKey: .readTimeout)
        readHeaderTimeout = try c.decodeIfPresent(CaddyDuration.self, forKey: .readHeaderTimeout)
        writeTimeout = try c.decodeIfPresent(CaddyDuration.self, forKey: .writeTimeout)
        idleTimeout = try c.decodeIfPresent(CaddyDuration.self, forKey: .idleTimeout)
        keepaliveInterval = try c.decodeIfPresent(CaddyDuration.self, forKey: .keepaliveInterval)
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .keepaliveIdle)
        _ = try c.decodeIfPresent(Int.self, forKey: .keepaliveCount)
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes)
        automaticHTTPS = try c.decodeIfPresent(AutomaticHTTPS.self, forKey: .automaticHTTPS)
        tlsConnectionPolicies = try c.decodeIfPresent([TLSConnectionPolicyConfig].self, forKey: .tlsConnectionPolicies)
        protocols = try c.decodeIfPresent([String].self, forKey: .protocols)
        logs = try c.decodeIfPresent(ServerLogsConfig.self, forKey: .logs)
        trustedProxies = try c.decodeIfPresent(TrustedProxies.self, forKey: .trustedProxies)
        clientIPHeaders = try c.decodeIfPresent([String].self, forKey: .clientIPHeaders)
        trustedProxiesStrict = try c.decodeIfPresent(Int.self, forKey: .trustedProxiesStrict)
        strictSNIHost = try c.decodeIfPresent(Bool.self, forKey: .strictSNIHost)
        listenerWrappers = try c.decodeIfPresent(JSONValue.self, forKey: .listenerWrappers)
        enableFullDuplex = try c.decodeIfPresent(Bool.self, forKey: .enableFullDuplex)
        metrics = try c.decodeIfPresent(MetricsConfig.self, forKey: .metrics)
        if let protocols {
            for (i, p) in protocols.enumerated() where !["h1", "h2", "h2c", "h3"].contains(p) {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.protocols, IndexKey(i)], "unknown protocol \"\(p)\"; known: h1, h2, h2c, h3")
            }
        }
        if let m = maxHeaderBytes, m <= 0 {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.maxHeaderBytes], "must be positive")
        }
    }

    /// How this server finds the client's address, when it trusts proxies.
    public var clientIPResolver: ClientIPResolver? {
        guard let trustedProxies, !trustedProxies.ranges.isEmpty else { return nil }
        let headers = clientIPHeaders ?? ["X-Forwarded-For"]
        return ClientIPResolver(trusted: trustedProxies, headers: headers.isEmpty ? ["X-Forwarded-For"] : headers,
                                strict: (trustedProxiesStrict ?? 0) > 0)
    }

    /// Limits for connections from this server's fields, with Caddy's defaults.
    public var limits: ServerLimits {
        var l = ServerLimits()
        if let maxHeaderBytes { l.http1.maxHeaderBytes = maxHeaderBytes }
        if let readHeaderTimeout { l.readHeaderTimeout = readHeaderTimeout.positiveNanos }
        if let readTimeout { l.readTimeout = readTimeout.positiveNanos }
        if let writeTimeout { l.writeTimeout = writeTimeout.positiveNanos }
        if let idleTimeout { l.idleTimeout = idleTimeout.positiveNanos }
        if let keepaliveInterval { l.keepaliveInterval = keepaliveInterval.positiveNanos }
        return l
    }
}

/// A server's `errors` object.
public struct ErrorRoutes: Decodable, Sendable {
    /// Run when the main routes throw; `{http.error.*}` placeholders describe the error. Empty when absent.
    public var routes: RouteList
    enum CodingKeys: String, CodingKey, CaseIterable { case routes }
    /// For building a server's config in code rather than decoding it.
    public init(routes: RouteList) { self.routes = routes }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        routes = try c.decodeIfPresent(RouteList.self, forKey: .routes) ?? RouteList([])
    }
}

/// A server's `automatic_https` object: see `AutomaticHTTPS.apply` for what each member does.
package struct AutomaticHTTPS: Decodable, Sendable {
    public var disable: Bool?
    public var disableRedirects: Bool?
    public var disableCertificates: Bool?
    public var skip: [String]?
    public var skipCertificates: [String]?
    public var ignoreLoadedCertificates: Bool?
    public var preferWildcard: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case disable, disableRedirects = "disable_redirects", disableCertificates = "disable_certificates", skip
        case skipCertificates = "skip_certificates", ignoreLoadedCertificates = "ignore_loaded_certificates"
        case preferWildcard = "prefer_wildcard"
    }
}
