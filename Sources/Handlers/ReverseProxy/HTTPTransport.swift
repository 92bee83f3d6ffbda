import QuantumCore

/// `transport` with `"protocol": "http"`: how the proxy talks to upstreams (HTTP/1.1, plain or
/// TLS), mapped onto `HTTPClient.Configuration`. Fields that would change behaviour we do not
/// have yet (HTTP/2 upstreams, PROXY protocol, client certificates, ...) are refused by name.
public struct HTTPTransport: Sendable, Decodable {
    public struct KeepAlive: Sendable, Decodable {
        public var enabled: Bool?
        public var probeInterval: CaddyDuration?
        public var maxIdleConns: Int?
        public var maxIdleConnsPerHost: Int?
        public var idleTimeout: CaddyDuration?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled, probeInterval = "probe_interval", maxIdleConns = "max_idle_conns"
            case maxIdleConnsPerHost = "max_idle_conns_per_host", idleTimeout = "idle_timeout"
        }
    }

    package var configuration = HTTPClient.Configuration()

    /// `transport.tls`: HTTPS to the upstreams. `{}` trusts the system roots.
    public struct UpstreamTLS: Sendable, Decodable {
        public var configuration: TLSClientConfiguration

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rootCAPEMFiles = "root_ca_pem_files", insecureSkipVerify = "insecure_skip_verify", serverName = "server_name"
            case ca, clientCertificateFile = "client_certificate_file", clientCertificateKeyFile = "client_certificate_key_file"
            case handshakeTimeout = "handshake_timeout", exceptPorts = "except_ports", renegotiation, curves
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            for key in [CodingKeys.ca, .clientCertificateFile, .clientCertificateKeyFile, .exceptPorts, .renegotiation, .curves]
            where c.contains(key) {
                throw ConfigError(codingPath: decoder.codingPath + [key], "transport.tls field \"\(key.stringValue)\" is not supported yet")
            }
            let roots = try c.decodeIfPresent([String].self, forKey: .rootCAPEMFiles) ?? []
            guard roots.count <= 1 else {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.rootCAPEMFiles], "one root CA file is supported (concatenate the PEMs)")
            }
            _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .handshakeTimeout)  // bounded by dial_timeout here
            configuration = TLSClientConfiguration(trustRootsFile: roots.first,
                                                   verifyPeer: !(try c.decodeIfPresent(Bool.self, forKey: .insecureSkipVerify) ?? false),
                                                   serverName: try c.decodeIfPresent(String.self, forKey: .serverName))
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case `protocol`, versions, dialTimeout = "dial_timeout", dialFallbackDelay = "dial_fallback_delay"
        case responseHeaderTimeout = "response_header_timeout", expectContinueTimeout = "expect_continue_timeout"
        case readTimeout = "read_timeout", writeTimeout = "write_timeout", keepAlive = "keep_alive"
        case maxResponseHeaderSize = "max_response_header_size", compression
        case readBufferSize = "read_buffer_size", writeBufferSize = "write_buffer_size"
        case tls, resolver, proxyProtocol = "proxy_protocol", localAddress = "local_address"
        case forwardProxyURL = "forward_proxy_url", networkProxy = "network_proxy", maxConnsPerHost = "max_conns_per_host"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let proto = try c.decodeIfPresent(String.self, forKey: .protocol) ?? "http"
        guard proto == "http" else {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.protocol], "unknown transport \"\(proto)\"; known: http")
        }
        for key in [CodingKeys.resolver, .proxyProtocol, .localAddress, .forwardProxyURL, .networkProxy, .maxConnsPerHost]
        where c.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key], "transport field \"\(key.stringValue)\" is not supported yet")
        }
        if let versions = try c.decodeIfPresent([String].self, forKey: .versions), !versions.contains("1.1") {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.versions],
                              "upstream HTTP versions \(versions) are not supported yet; include \"1.1\"")
        }
        func nanos(_ key: CodingKeys) throws -> UInt64? {
            guard let d = try c.decodeIfPresent(CaddyDuration.self, forKey: key), d.nanoseconds > 0 else { return nil }
            return UInt64(d.nanoseconds)
        }
        if c.contains(.dialTimeout) {
            // Go's dialer fails at once on a negative timeout: a mistake, not "no timeout".
            if let d = try c.decodeIfPresent(CaddyDuration.self, forKey: .dialTimeout), d.nanoseconds < 0 {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.dialTimeout], "dial_timeout cannot be negative (\(d))")
            }
            configuration.dialTimeout = try nanos(.dialTimeout)
        }
        configuration.responseHeaderTimeout = try nanos(.responseHeaderTimeout)
        configuration.readTimeout = try nanos(.readTimeout)
        configuration.writeTimeout = try nanos(.writeTimeout)
        if let size = try c.decodeIfPresent(Int.self, forKey: .maxResponseHeaderSize), size > 0 {
            configuration.maxResponseHeaderBytes = size
        }
        if let tls = try c.decodeIfPresent(UpstreamTLS.self, forKey: .tls) { configuration.tls = tls.configuration }
        if let keepAlive = try c.decodeIfPresent(KeepAlive.self, forKey: .keepAlive) {
            configuration.keepAlive = keepAlive.enabled ?? true
            if let n = keepAlive.maxIdleConnsPerHost { configuration.maxIdlePerHost = max(0, n) }
            if let t = keepAlive.idleTimeout, t.nanoseconds > 0 { configuration.idleTimeout = UInt64(t.nanoseconds) }
        }
        // Tuning knobs without a counterpart here (buffers are sized per read; one address per dial).
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .dialFallbackDelay)
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .expectContinueTimeout)
        _ = try c.decodeIfPresent(Bool.self, forKey: .compression)
        _ = try c.decodeIfPresent(Int.self, forKey: .readBufferSize)
        _ = try c.decodeIfPresent(Int.self, forKey: .writeBufferSize)
    }
}
