/// Caddy's `apps.pki`: the local certificate authorities the `internal` issuer signs with.
package struct PKIAppConfig: Decodable, Sendable {
    public var certificateAuthorities: [String: CAConfig]

    enum CodingKeys: String, CodingKey, CaseIterable { case certificateAuthorities = "certificate_authorities" }

    public init() { certificateAuthorities = [:] }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateAuthorities = try c.decodeIfPresent([String: CAConfig].self, forKey: .certificateAuthorities) ?? [:]
    }
}

/// One CA of `apps.pki.certificate_authorities` (Caddy's fields). `storage` —
/// `{"module": "file_system", "root": DIR}` — moves it out of the data directory.
package struct CAConfig: Decodable, Sendable {
    public var name: String?
    public var rootCommonName: String?
    public var intermediateCommonName: String?
    public var intermediateLifetime: CaddyDuration?
    public var installTrust: Bool?
    public var storage: StorageConfig?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, rootCommonName = "root_common_name", intermediateCommonName = "intermediate_common_name"
        case intermediateLifetime = "intermediate_lifetime", installTrust = "install_trust", root, intermediate, storage
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        rootCommonName = try c.decodeIfPresent(String.self, forKey: .rootCommonName)
        intermediateCommonName = try c.decodeIfPresent(String.self, forKey: .intermediateCommonName)
        intermediateLifetime = try c.decodeIfPresent(CaddyDuration.self, forKey: .intermediateLifetime)
        installTrust = try c.decodeIfPresent(Bool.self, forKey: .installTrust)
        storage = try c.decodeIfPresent(StorageConfig.self, forKey: .storage)
        for key in [CodingKeys.root, .intermediate] where c.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key], "loading an existing CA certificate is not supported yet; Quantum generates its own")
        }
    }
}

/// Caddy's storage module, file system only: `{"module": "file_system", "root": "/var/lib/quantum"}`.
package struct StorageConfig: Decodable, Sendable {
    public var root: String

    enum CodingKeys: String, CodingKey, CaseIterable { case module, root }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let module = try c.decode(String.self, forKey: .module)
        guard module == "file_system" else {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.module], "unknown storage \"\(module)\"; known: file_system")
        }
        root = try c.decode(String.self, forKey: .root)
    }
}
