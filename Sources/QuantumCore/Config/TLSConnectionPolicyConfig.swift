/// One of a server's `tls_connection_policies` (Caddy's `caddytls.ConnectionPolicy`). The first
/// policy whose `match` accepts the ClientHello configures the handshake; an empty policy `{}`
/// matches everything and means "TLS with the defaults".
package struct TLSConnectionPolicyConfig: Decodable, Sendable {
    public var match: TLSMatchConfig?
    public var certificateSelection: CertificateSelectionConfig?
    public var cipherSuites: [String]?
    public var curves: [String]?
    public var alpn: [String]?
    public var protocolMin: String?
    public var protocolMax: String?
    public var clientAuthentication: ClientAuthenticationConfig?
    public var defaultSNI: String?
    public var fallbackSNI: String?
    /// The JSON path of this policy, for errors found while building it.
    public var path: [any CodingKey]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case match, certificateSelection = "certificate_selection", cipherSuites = "cipher_suites", curves, alpn
        case protocolMin = "protocol_min", protocolMax = "protocol_max", clientAuthentication = "client_authentication"
        case defaultSNI = "default_sni", fallbackSNI = "fallback_sni"
    }

    public init() { path = [] }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = decoder.codingPath
        match = try c.decodeIfPresent(TLSMatchConfig.self, forKey: .match)
        certificateSelection = try c.decodeIfPresent(CertificateSelectionConfig.self, forKey: .certificateSelection)
        cipherSuites = try c.decodeIfPresent([String].self, forKey: .cipherSuites)
        curves = try c.decodeIfPresent([String].self, forKey: .curves)
        alpn = try c.decodeIfPresent([String].self, forKey: .alpn)
        protocolMin = try c.decodeIfPresent(String.self, forKey: .protocolMin)
        protocolMax = try c.decodeIfPresent(String.self, forKey: .protocolMax)
        clientAuthentication = try c.decodeIfPresent(ClientAuthenticationConfig.self, forKey: .clientAuthentication)
        defaultSNI = try c.decodeIfPresent(String.self, forKey: .defaultSNI)
        fallbackSNI = try c.decodeIfPresent(String.self, forKey: .fallbackSNI)
        for (key, value) in [(CodingKeys.protocolMin, protocolMin), (.protocolMax, protocolMax)] {
            if let value, TLSNames.protocolVersion(value) == nil {
                throw ConfigError(codingPath: path + [key], "unknown protocol \"\(value)\"; known: \(TLSNames.protocols.joined(separator: ", "))")
            }
        }
        if let lo = protocolMin.flatMap(TLSNames.protocolVersion), let hi = protocolMax.flatMap(TLSNames.protocolVersion), lo > hi {
            throw ConfigError(codingPath: path + [CodingKeys.protocolMin], "protocol_min \(protocolMin!) is above protocol_max \(protocolMax!)")
        }
        for (i, name) in (cipherSuites ?? []).enumerated() where TLSNames.cipherSuite(name) == nil {
            throw ConfigError(codingPath: path + [CodingKeys.cipherSuites, IndexKey(i)], "unknown cipher suite \"\(name)\"")
        }
        for (i, name) in (curves ?? []).enumerated() where TLSNames.curve(name) == nil {
            throw ConfigError(codingPath: path + [CodingKeys.curves, IndexKey(i)],
                              "unknown curve \"\(name)\"; known: \(TLSNames.curveNames.joined(separator: ", "))")
        }
        for (i, p) in (alpn ?? []).enumerated() where p.isEmpty || p.utf8.count > 255 {
            throw ConfigError(codingPath: path + [CodingKeys.alpn, IndexKey(i)], "an ALPN protocol name is 1 to 255 bytes")
        }
    }
}

/// A policy's `match`: which ClientHellos it applies to (by SNI).
package struct TLSMatchConfig: Decodable, Sendable {
    public var sni: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case sni }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sni = try c.decodeIfPresent([String].self, forKey: .sni)
    }
}

/// A policy's `certificate_selection`: which loaded certificates it may present, by tag.
package struct CertificateSelectionConfig: Decodable, Sendable {
    public var anyTag: [String]?
    public var allTags: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case anyTag = "any_tag", allTags = "all_tags" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        anyTag = try c.decodeIfPresent([String].self, forKey: .anyTag)
        allTags = try c.decodeIfPresent([String].self, forKey: .allTags)
    }
}

/// A policy's `client_authentication` (mutual TLS).
package struct ClientAuthenticationConfig: Decodable, Sendable {
    /// Base64 DER certificates of CAs whose client certificates are trusted.
    public var trustedCACerts: [String]
    public var trustedCACertsPEMFiles: [String]
    public var mode: Mode?
    public var path: [any CodingKey]

    /// Caddy's modes, as Go's `tls.ClientAuthType`.
    public enum Mode: String, Sendable, CaseIterable {
        case request, require, verifyIfGiven = "verify_if_given", requireAndVerify = "require_and_verify"
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case trustedCACerts = "trusted_ca_certs", trustedCACertsPEMFiles = "trusted_ca_certs_pem_files", mode
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = decoder.codingPath
        trustedCACerts = try c.decodeIfPresent([String].self, forKey: .trustedCACerts) ?? []
        trustedCACertsPEMFiles = try c.decodeIfPresent([String].self, forKey: .trustedCACertsPEMFiles) ?? []
        if let text = try c.decodeIfPresent(String.self, forKey: .mode) {
            guard let m = Mode(rawValue: text) else {
                throw ConfigError(codingPath: path + [CodingKeys.mode],
                                  "unknown mode \"\(text)\"; known: \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            mode = m
        }
    }

    /// Caddy's default: with trusted CAs and no mode, require and verify a client certificate.
    public var effectiveMode: Mode? {
        if let mode { return mode }
        return trustedCACerts.isEmpty && trustedCACertsPEMFiles.isEmpty ? nil : .requireAndVerify
    }
}
