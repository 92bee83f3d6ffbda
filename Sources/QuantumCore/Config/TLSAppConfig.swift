/// Caddy's `apps.tls`. Quantum loads the manual certificates (`certificates.load_files`,
/// `load_pem`, `load_folders`) and automates the others with the `internal` issuer (ACME is a
/// later step); the remaining members are accepted so Caddy configs load.
package struct TLSAppConfig: Decodable, Sendable {
    public var certificates: CertificatesConfig?
    public var automation: TLSAutomationConfig?
    public var sessionTickets: SessionTicketsConfig?
    public var cache: JSONValue?
    /// The JSON path of `apps.tls`, for errors found while loading certificates.
    public var path: [any CodingKey]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case certificates, automation, sessionTickets = "session_tickets", cache
        case disableOCSPStapling = "disable_ocsp_stapling", disableStorageCheck = "disable_storage_check"
        case disableStorageClean = "disable_storage_clean", encryptedClientHello = "encrypted_client_hello"
        case dns, resolvers
    }

    public init() { path = [] }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = decoder.codingPath
        certificates = try c.decodeIfPresent(CertificatesConfig.self, forKey: .certificates)
        automation = try c.decodeIfPresent(TLSAutomationConfig.self, forKey: .automation)
        sessionTickets = try c.decodeIfPresent(SessionTicketsConfig.self, forKey: .sessionTickets)
        cache = try c.decodeIfPresent(JSONValue.self, forKey: .cache)
        _ = try c.decodeIfPresent(Bool.self, forKey: .disableOCSPStapling)
        _ = try c.decodeIfPresent(Bool.self, forKey: .disableStorageCheck)
        _ = try c.decodeIfPresent(Bool.self, forKey: .disableStorageClean)
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .encryptedClientHello)
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .dns)
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .resolvers)
    }
}

/// `apps.tls.certificates`: manually loaded certificates (`automate` is accepted for later).
package struct CertificatesConfig: Decodable, Sendable {
    public var loadFiles: [CertificateFileConfig] = []
    public var loadPEM: [CertificatePEMConfig] = []
    public var loadFolders: [String] = []
    public var automate: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case loadFiles = "load_files", loadPEM = "load_pem", loadFolders = "load_folders", automate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        loadFiles = try c.decodeIfPresent([CertificateFileConfig].self, forKey: .loadFiles) ?? []
        loadPEM = try c.decodeIfPresent([CertificatePEMConfig].self, forKey: .loadPEM) ?? []
        loadFolders = try c.decodeIfPresent([String].self, forKey: .loadFolders) ?? []
        automate = try c.decodeIfPresent([String].self, forKey: .automate)
    }
}

/// One `load_files` entry: a PEM certificate (chain) file and its key file.
package struct CertificateFileConfig: Decodable, Sendable {
    public var certificate: String
    public var key: String
    public var format: String?
    public var tags: [String]

    enum CodingKeys: String, CodingKey, CaseIterable { case certificate, key, format, tags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decode(String.self, forKey: .certificate)
        key = try c.decode(String.self, forKey: .key)
        format = try c.decodeIfPresent(String.self, forKey: .format)
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        if let format, format != "pem" && !format.isEmpty {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.format], "unsupported format \"\(format)\"; known: pem")
        }
    }
}

/// One `load_pem` entry: certificate (chain) and key as inline PEM text.
package struct CertificatePEMConfig: Decodable, Sendable {
    public var certificate: String
    public var key: String
    public var tags: [String]

    enum CodingKeys: String, CodingKey, CaseIterable { case certificate, key, tags }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificate = try c.decode(String.self, forKey: .certificate)
        key = try c.decode(String.self, forKey: .key)
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
    }
}

/// `apps.tls.session_tickets`: `disabled` turns resumption off (every handshake is a full one);
/// the key-rotation members are accepted (OpenSSL rotates nothing: its ticket key lives as long
/// as the loaded config).
package struct SessionTicketsConfig: Decodable, Sendable {
    public var disabled: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case disabled, keySource = "key_source", rotationInterval = "rotation_interval", maxKeys = "max_keys"
        case disableRotation = "disable_rotation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        disabled = try c.decodeIfPresent(Bool.self, forKey: .disabled) ?? false
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .keySource)
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .rotationInterval)
        _ = try c.decodeIfPresent(Int.self, forKey: .maxKeys)
        _ = try c.decodeIfPresent(Bool.self, forKey: .disableRotation)
    }
}
