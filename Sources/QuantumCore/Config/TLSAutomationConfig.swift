/// Caddy's `apps.tls.automation`: which issuer manages which names. Quantum runs the `internal`
/// issuer (its local CA); `acme` is recognised and refused with a clear message until it lands.
package struct TLSAutomationConfig: Decodable, Sendable {
    public var policies: [AutomationPolicyConfig]
    /// `renew_interval`: how often managed certificates are checked for renewal (Caddy: 10m).
    public var renewInterval: CaddyDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policies, onDemand = "on_demand", ocspInterval = "ocsp_interval", renewInterval = "renew_interval"
        case storageCleanInterval = "storage_clean_interval"
    }

    public init() { policies = [] }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        policies = try c.decodeIfPresent([AutomationPolicyConfig].self, forKey: .policies) ?? []
        renewInterval = try c.decodeIfPresent(CaddyDuration.self, forKey: .renewInterval)
        _ = try c.decodeIfPresent(JSONValue.self, forKey: .onDemand)
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .ocspInterval)
        _ = try c.decodeIfPresent(CaddyDuration.self, forKey: .storageCleanInterval)
    }

    /// The issuer for `name`: the first policy whose `subjects` cover it (a policy without
    /// subjects covers every name), as Caddy picks automation policies.
    public func issuer(for name: String) -> IssuerConfig? {
        for policy in policies where policy.covers(name) { return policy.issuers.first }
        return nil
    }
}

/// One automation policy: `subjects` (names, `*` wildcards) and the `issuers` tried in order.
package struct AutomationPolicyConfig: Decodable, Sendable {
    public var subjects: [String]?
    public var issuers: [IssuerConfig]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case subjects, issuers, issuer, onDemand = "on_demand", keyType = "key_type", mustStaple = "must_staple"
        case storage, renewalWindowRatio = "renewal_window_ratio", reusePrivateKeys = "reuse_private_keys"
        case disableOCSPStapling = "disable_ocsp_stapling", ocspOverrides = "ocsp_overrides", managers, getCertificate = "get_certificate"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subjects = try c.decodeIfPresent([String].self, forKey: .subjects)
        issuers = try c.decodeIfPresent([IssuerConfig].self, forKey: .issuers) ?? []
        if let single = try c.decodeIfPresent(IssuerConfig.self, forKey: .issuer) { issuers.append(single) }
        for key in [CodingKeys.onDemand, .keyType, .mustStaple, .storage, .renewalWindowRatio, .reusePrivateKeys,
                    .disableOCSPStapling, .ocspOverrides, .managers, .getCertificate] {
            _ = try c.decodeIfPresent(JSONValue.self, forKey: key)
        }
    }

    func covers(_ name: String) -> Bool {
        guard let subjects, !subjects.isEmpty else { return true }
        let lower = name.lowercased()
        return subjects.contains { subject in
            let s = subject.lowercased()
            if s == lower { return true }
            if s.hasPrefix("*."), let dot = lower.firstIndex(of: "."), lower[dot...] == s.dropFirst() { return true }
            return false
        }
    }
}

/// An issuer module: `{"module": "internal", "ca": "local", "lifetime": "12h", "sign_with_root": false}`.
package struct IssuerConfig: Decodable, Sendable {
    public enum Kind: Sendable, Equatable { case `internal`, acme }
    public var kind: Kind
    /// The `pki` CA that signs (`internal`; Caddy's default `local`).
    public var ca: String
    /// Leaf lifetime (`internal`; Caddy's default 12h).
    public var lifetime: CaddyDuration?
    public var signWithRoot: Bool

    enum InternalKeys: String, CodingKey, CaseIterable { case module, ca, lifetime, signWithRoot = "sign_with_root" }
    enum ModuleKey: String, CodingKey { case module }

    public init(from decoder: any Decoder) throws {
        let module = try decoder.container(keyedBy: ModuleKey.self).decode(String.self, forKey: .module)
        switch module {
        case "internal":
            let c = try decoder.container(keyedBy: InternalKeys.self)
            kind = .internal
            ca = try c.decodeIfPresent(String.self, forKey: .ca) ?? "local"
            lifetime = try c.decodeIfPresent(CaddyDuration.self, forKey: .lifetime)
            signWithRoot = try c.decodeIfPresent(Bool.self, forKey: .signWithRoot) ?? false
        case "acme", "zerossl":
            throw ConfigError(codingPath: decoder.codingPath + [NameKey("module")],
                              "the \(module) issuer is not supported yet; use {\"module\": \"internal\"} (Quantum's local CA)")
        default:
            throw ConfigError(codingPath: decoder.codingPath + [NameKey("module")], "unknown issuer \"\(module)\"; known: internal")
        }
    }

    public init(ca: String = "local") {
        kind = .internal
        self.ca = ca
        signWithRoot = false
    }
}
