import QuantumCore

/// Builds the TLS app's automation policies and certificate loaders from the sites (Caddy's
/// `buildTLSApp`): a policy per site with its issuers and options, public and internal names
/// split, global ACME defaults filled in, equal policies merged.
struct TLSAppBuilder {
    let state: AdapterState

    /// An automation policy being built.
    struct Policy: Equatable {
        var subjects: [String] = []
        var issuers: [JSONValue] = []
        var keyType: String?
        var onDemand = false
        var ocsp: JSONValue?
        /// `get_certificate` managers; not compared when merging policies (as Caddy 2.6.2).
        var managers: [JSONValue] = []

        var json: JSONValue {
            var members: [(String, JSONValue?)] = [
                ("subjects", subjects.isEmpty ? nil : .strings(subjects)),
                ("issuers", issuers.isEmpty ? nil : .array(issuers)),
                ("key_type", keyType.map(JSONValue.string)),
                ("get_certificate", managers.isEmpty ? nil : .array(managers)),
                ("on_demand", onDemand ? .bool(true) : nil),
            ]
            for (k, v) in ocsp?.objectMembers ?? [] { members.append((k, v)) }
            return .object(members)
        }

        func sameSettings(_ o: Policy) -> Bool {
            issuers.map(\.canonical) == o.issuers.map(\.canonical) && keyType == o.keyType && onDemand == o.onDemand && ocsp?.canonical == o.ocsp?.canonical
        }

        var isEmptyIgnoringSubjects: Bool { issuers.isEmpty && keyType == nil && !onDemand && ocsp == nil && managers.isEmpty }

        static func == (a: Policy, b: Policy) -> Bool {
            a.subjects == b.subjects && a.sameSettings(b) && a.managers.map(\.canonical) == b.managers.map(\.canonical)
        }
    }

    func build(_ pairings: [Pairing]) throws -> JSONValue? {
        let options = state.options
        let httpPort = String(options.httpPort ?? 80)
        let autoHTTPS = options.autoHTTPS ?? "on"
        var certificates: [(String, JSONValue)] = []
        var automation: [(String, JSONValue?)] = []

        // Names that share a site block with a host-less key are not in any route's host matcher,
        // so they are listed for certificates explicitly; and blocks with an HTTPS host-less key are counted.
        var sharedWithHostless: Set<String> = []
        var hostlessTLSBlocks = 0
        let httpsPort = String(options.httpsPort ?? 443)
        for pair in pairings {
            for site in pair.blocks {
                guard let hostless = site.addresses.first(where: { $0.host.isEmpty }) else { continue }
                if hostless.scheme == "https" || hostless.port == httpsPort { hostlessTLSBlocks += 1 }
                guard autoHTTPS != "off" else { continue }
                for a in site.addresses where a.original != hostless.original && !a.host.isEmpty && a.scheme != "http" && a.port != httpPort {
                    sharedWithHostless.insert(a.host)
                }
            }
        }

        var policies: [Policy] = []
        var catchAllIndex: Int?
        if let base = try basePolicy(always: false) {
            policies.append(base)
            catchAllIndex = 0
        }
        var fileLoaders: [JSONValue] = [], folderLoaders: [JSONValue] = [], pemLoaders: [JSONValue] = []
        for pair in pairings where ServerBuilder.listenersUseAnyPort(pair.addresses, otherThan: httpPort) {
            for site in pair.blocks {
                if site.addresses.allSatisfy({ $0.scheme == "http" }) { continue }
                var policy = try basePolicy(always: true)!
                let hosts = site.hosts(loggerMode: false)
                var isCatchAll = false
                if hosts.isEmpty, let c = catchAllIndex { policy = policies[c]; isCatchAll = true }
                if site.pile["tls.on_demand"] != nil { policy.onDemand = true }
                if let keyType = site.pile["tls.key_type"]?.first?.json?.stringValue { policy.keyType = keyType }
                if let managers = site.pile["tls.cert_manager"] { policy.managers = managers.compactMap(\.json) }
                if let issuerValues = site.pile["tls.cert_issuer"] {
                    let issuers = issuerValues.compactMap(\.json)
                    if isCatchAll && policy.issuers.map(\.canonical) != issuers.map(\.canonical) {
                        throw CaddyfileError("automation policy from site block is also default/catch-all policy because of key without hostname, and the two are in conflict")
                    }
                    policy.issuers = issuers
                }
                for bind in site.pile["bind"] ?? [] {
                    guard case .strings(let hostsToBind) = bind.value, let host = hostsToBind.first else { continue }
                    for k in policy.issuers.indices where ["acme", "zerossl"].contains(policy.issuers[k]["module"]?.stringValue ?? "") {
                        var challenges = policy.issuers[k]["challenges"] ?? .object([])
                        if challenges["bind_host"] == nil { challenges.set("bind_host", .string(host)) }
                        policy.issuers[k].set("challenges", challenges)
                    }
                }
                if hosts.isEmpty {
                    if hostlessTLSBlocks > 1 {
                        throw CaddyfileError("cannot make a TLS automation policy from a server block that has a host-less address when there are other TLS-enabled server block addresses lacking a host")
                    }
                }
                policy.subjects = Self.hostsNotHTTP(site, httpPort: httpPort).sorted()
                var internalPolicy: Policy?
                if policy.issuers.isEmpty {
                    var internalNames: [String] = [], external: [String] = []
                    for s in policy.subjects {
                        if s.lowercased().hasSuffix(".ts.net") { continue }
                        if !Self.qualifiesForCert(s) { throw CaddyfileError("subject does not qualify for certificate: '\(s)'") }
                        if Self.qualifiesForPublicCert(s, onDemand: policy.onDemand) { external.append(s) } else { internalNames.append(s) }
                    }
                    if !external.isEmpty && !internalNames.isEmpty {
                        policy.subjects = external
                        var copy = policy
                        copy.subjects = internalNames
                        copy.issuers = [.object([("module", .string("internal"))])]
                        internalPolicy = copy
                    }
                }
                if isCatchAll, let c = catchAllIndex {
                    policies[c] = policy
                } else {
                    policies.append(policy)
                    if hosts.isEmpty && catchAllIndex == nil { catchAllIndex = policies.count - 1 }
                }
                if let p = internalPolicy { policies.append(p) }
                for loader in site.pile["tls.cert_loader"] ?? [] {
                    guard let j = loader.json else { continue }
                    if let files = j["load_files"] { fileLoaders += files.arrayValues }
                    if let folders = j["load_folders"] { folderLoaders += folders.arrayValues }
                    if let pem = j["load_pem"] { pemLoaders += pem.arrayValues }
                }
            }
        }

        if !fileLoaders.isEmpty { certificates.append(("load_files", .array(fileLoaders))) }
        if !folderLoaders.isEmpty { certificates.append(("load_folders", .array(folderLoaders))) }
        if !pemLoaders.isEmpty { certificates.append(("load_pem", .array(pemLoaders))) }
        if !sharedWithHostless.isEmpty { certificates.append(("automate", .strings(sharedWithHostless.sorted()))) }

        // Public names without an issuer get the default issuers when global ACME settings exist.
        let hasGlobalACME = options.acmeCA != nil || options.acmeDNS != nil || options.acmeEAB != nil || options.email != nil || options.acmeCARoot != nil || options.preferredChains != nil
        if hasGlobalACME {
            for i in policies.indices where policies[i].issuers.isEmpty && Self.allPublic(policies[i]) {
                if let ca = options.acmeCA {
                    policies[i].issuers = ca.contains("zerossl") ? [.object([("module", .string("zerossl"))])] : [.object([("module", .string("acme"))])]
                } else {
                    policies[i].issuers = [.object([("module", .string("acme"))]), .object([("module", .string("zerossl"))])]
                }
            }
        }
        for i in policies.indices {
            for k in policies[i].issuers.indices { policies[i].issuers[k] = fillGlobalDefaults(policies[i].issuers[k]) }
        }
        policies = Self.consolidate(policies)
        var seen: Set<String> = []
        for p in policies {
            for s in p.subjects where !seen.insert(s).inserted {
                throw CaddyfileError("hostname appears in more than one automation policy, making certificate management ambiguous: \(s)")
            }
        }
        automation.append(("policies", policies.isEmpty ? nil : .array(policies.map(\.json))))
        automation.append(("on_demand", options.onDemandTLS))
        automation.append(("ocsp_interval", options.ocspInterval.map { .number(String($0)) }))
        automation.append(("renew_interval", options.renewInterval.map { .number(String($0)) }))
        automation.append(("storage_clean_interval", options.storageCleanInterval.map { .number(String($0)) }))
        let automationJSON = JSONValue.object(automation)
        let app = JSONValue.object([
            ("certificates", certificates.isEmpty ? nil : .object(certificates)),
            ("automation", automationJSON.objectMembers.isEmpty ? nil : automationJSON),
        ])
        return app.objectMembers.isEmpty ? nil : app
    }

    /// The policy global options imply (nil when none apply and `always` is false).
    func basePolicy(always: Bool) throws -> Policy? {
        let o = state.options
        let has = o.certIssuers != nil || o.localCerts || o.keyType != nil || o.ocspStapling != nil
        if !has { return always ? Policy() : nil }
        var p = Policy()
        p.keyType = o.keyType
        if o.certIssuers != nil && o.localCerts {
            throw CaddyfileError("global options are ambiguous: local_certs is confusing when combined with cert_issuer, because local_certs is also a specific kind of issuer")
        }
        if let issuers = o.certIssuers { p.issuers = issuers } else if o.localCerts { p.issuers = [.object([("module", .string("internal"))])] }
        p.ocsp = o.ocspStapling
        return p
    }

    /// Global ACME options fill the fields an ACME issuer left empty.
    func fillGlobalDefaults(_ issuer: JSONValue) -> JSONValue {
        let o = state.options
        guard let module = issuer["module"]?.stringValue, module == "acme" || module == "zerossl" else { return issuer }
        var out = issuer
        if let ca = o.acmeCA, out["ca"] == nil { out.set("ca", .string(ca)) }
        if let email = o.email, out["email"] == nil { out.set("email", .string(email)) }
        if let eab = o.acmeEAB, out["external_account"] == nil { out.set("external_account", eab) }
        if let root = o.acmeCARoot, out["trusted_roots_pem_files"] == nil { out.set("trusted_roots_pem_files", .strings([root])) }
        if let chains = o.preferredChains, out["preferred_chains"] == nil { out.set("preferred_chains", chains) }
        return JSONValue.object(Self.acmeOrder(out))
    }

    private static func acmeOrder(_ issuer: JSONValue) -> [(String, JSONValue)] {
        let order = ["module", "ca", "test_ca", "email", "account_key", "external_account", "acme_timeout", "challenges", "trusted_roots_pem_files", "preferred_chains", "api_key"]
        return issuer.objectMembers.sorted { (order.firstIndex(of: $0.0) ?? 99) < (order.firstIndex(of: $1.0) ?? 99) }
    }

    static func hostsNotHTTP(_ site: SiteBlock, httpPort: String) -> [String] {
        var out: [String] = []
        for a in site.addresses where !a.host.isEmpty && a.scheme != "http" && a.port != httpPort {
            if !out.contains(a.host) { out.append(a.host) }
        }
        return out
    }

    static func allPublic(_ p: Policy) -> Bool { p.subjects.allSatisfy { qualifiesForPublicCert($0, onDemand: false) } }

    /// certmagic's SubjectQualifiesForCert.
    static func qualifiesForCert(_ s: String) -> Bool {
        let t = s.trimmingCharacters(in: .whitespaces)
        return !t.isEmpty && !s.hasPrefix(".") && !s.hasSuffix(".") && !s.contains(where: { "()[]{}<> \t\n\"\\!@#$%^&|;'+=".contains($0) })
    }

    /// Public CAs issue for it: not localhost, not an IP, not .local/.internal/.home.arpa, at most one wildcard label.
    static func qualifiesForPublicCert(_ s: String, onDemand: Bool) -> Bool {
        let l = s.lowercased()
        if !qualifiesForCert(l) { return false }
        if l == "localhost" || l.hasSuffix(".localhost") || l.hasSuffix(".local") || l.hasSuffix(".internal") || l.hasSuffix(".home.arpa") || l.hasSuffix(".test") { return false }
        if IPAddress.parse(l) != nil { return false }
        if !l.contains(".") { return false }
        if l.hasPrefix("*.") && l.dropFirst(2).contains("*") && !onDemand { return false }
        if l.contains("*") && !l.hasPrefix("*.") && !onDemand { return false }
        return true
    }

    /// Sort from most to least specific, drop empty policies for internal names, merge equal ones.
    static func consolidate(_ input: [Policy]) -> [Policy] {
        var aps = stableSorted(input) { a, b in
            if isSubset(a, b) { return true }
            if isSubset(b, a) { return false }
            return a.subjects.count > b.subjects.count
        }
        let originalCount = aps.count
        var emptyCount = 0
        var i = 0
        while i < aps.count {
            if aps[i].isEmptyIgnoringSubjects {
                emptyCount += 1
                if !allPublic(aps[i]) { aps.remove(at: i); continue }
            }
            i += 1
        }
        if emptyCount == originalCount { return [] }
        i = 0
        outer: while i < aps.count {
            var j = i + 1
            while j < aps.count {
                if aps[i] == aps[j] {
                    aps.remove(at: j)
                    continue outer
                }
                if aps[i].sameSettings(aps[j]) {
                    if !aps[i].subjects.isEmpty && aps[j].subjects.isEmpty {
                        if shadows(i, aps) >= j {
                            aps.remove(at: i)
                            continue outer
                        }
                    } else {
                        for s in aps[j].subjects where !aps[i].subjects.contains(s) { aps[i].subjects.append(s) }
                        aps.remove(at: j)
                        continue
                    }
                }
                j += 1
            }
            i += 1
        }
        return aps
    }

    private static func isSubset(_ a: Policy, _ b: Policy) -> Bool {
        if b.subjects.isEmpty { return true }
        if a.subjects.isEmpty { return false }
        return a.subjects.allSatisfy { s in b.subjects.contains { matchWildcard(s, $0) } }
    }

    /// The index of the first policy after `i` whose subjects cover one of policy i's (else the count).
    private static func shadows(_ i: Int, _ aps: [Policy]) -> Int {
        for j in (i + 1)..<aps.count {
            for s in aps[i].subjects where aps[j].subjects.contains(where: { $0 != s && matchWildcard(s, $0) }) { return j }
        }
        return aps.count
    }

    static func matchWildcard(_ subject: String, _ wildcard: String) -> Bool {
        if subject == wildcard { return true }
        guard wildcard.contains("*") else { return false }
        let a = subject.split(separator: ".", omittingEmptySubsequences: false)
        let b = wildcard.split(separator: ".", omittingEmptySubsequences: false)
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { $1 == "*" || $0 == $1 }
    }
}
