import Foundation
import QuantumCore

/// The `tls` directive: certificate files, an email or `internal`, protocol and cipher settings,
/// client authentication, issuers and on-demand TLS. Always yields a connection policy, so a
/// site using it gets TLS.
enum TLSDirective {
    static let protocols: Set<String> = ["tls1.2", "tls1.3"]
    static let curves: Set<String> = ["x25519", "secp256r1", "secp384r1", "secp521r1"]

    static func parse(_ h: inout Helper) throws -> [ConfigValue] {
        var policy: [(String, JSONValue?)] = []
        var fileLoaders: [JSONValue] = [], folders: [String] = [], tags: [String] = []
        var acme: [(String, JSONValue)]?, internalIssuer = false
        var issuers: [JSONValue] = []
        var keyType: String?, onDemand = false
        var ciphers: [String] = [], curveList: [String] = []
        var managers: [JSONValue] = []
        func setACME(_ key: String, _ value: JSONValue) {
            var a = acme ?? []
            a.removeAll { $0.0 == key }
            a.append((key, value))
            acme = a
        }
        while h.d.next() {
            let first = h.d.remainingArgs()
            switch first.count {
            case 0: break
            case 1:
                if first[0] == "internal" {
                    internalIssuer = true
                } else if !first[0].contains("@") {
                    throw h.d.err("single argument must either be 'internal' or an email address")
                } else {
                    setACME("email", .string(first[0]))
                }
            case 2:
                let cert = first[0], key = first[1]
                var tag = h.state.certTags[cert]
                if tag == nil {
                    let t = "cert\(h.state.certTags.count)"
                    fileLoaders.append(.object([("certificate", .string(cert)), ("key", .string(key)), ("tags", .strings([t]))]))
                    h.state.certTags[cert] = t
                    tag = t
                }
                tags.append(tag!)
            default:
                throw h.d.argErr()
            }
            var hasBlock = false
            let level = h.d.nesting
            while h.d.nextBlock(level) {
                hasBlock = true
                switch h.d.val {
                case "protocols":
                    let args = h.d.remainingArgs()
                    if args.isEmpty { throw h.d.err("protocols requires one or two arguments") }
                    for (i, p) in args.prefix(2).enumerated() {
                        guard protocols.contains(p) else { throw h.d.err("Wrong protocol name or protocol not supported: '\(p)'") }
                        policy.append((i == 0 ? "protocol_min" : "protocol_max", .string(p)))
                    }
                case "ciphers":
                    while h.d.nextArg() { ciphers.append(h.d.val) }
                case "curves":
                    while h.d.nextArg() {
                        guard curves.contains(h.d.val) else { throw h.d.err("Wrong curve name or curve not supported: '\(h.d.val)'") }
                        curveList.append(h.d.val)
                    }
                case "client_auth":
                    policy.append(("client_authentication", try clientAuth(&h.d)))
                case "alpn":
                    let args = h.d.remainingArgs()
                    if args.isEmpty { throw h.d.argErr() }
                    policy.append(("alpn", .strings(args)))
                case "load":
                    folders += h.d.remainingArgs()
                case "ca":
                    let args = h.d.remainingArgs()
                    if args.count != 1 { throw h.d.argErr() }
                    setACME("ca", .string(args[0]))
                case "key_type":
                    let args = h.d.remainingArgs()
                    if args.count != 1 { throw h.d.argErr() }
                    keyType = args[0]
                case "eab":
                    let args = h.d.remainingArgs()
                    if args.count != 2 { throw h.d.argErr() }
                    setACME("external_account", .object([("key_id", .string(args[0])), ("mac_key", .string(args[1]))]))
                case "issuer":
                    let name = try h.d.arg()
                    issuers.append(try IssuerSyntax.parse(name, &h.d))
                case "get_certificate":
                    let name = try h.d.arg()
                    switch name {
                    case "http":
                        let url = try h.d.arg()
                        if h.d.nextArg() { throw h.d.argErr() }
                        managers.append(.object([("via", .string("http")), ("url", .string(url))]))
                    case "tailscale":
                        if h.d.nextArg() { throw h.d.argErr() }
                        managers.append(.object([("via", .string("tailscale"))]))
                    default:
                        throw h.d.err("getting module named 'tls.get_certificate.\(name)': module not registered: tls.get_certificate.\(name)")
                    }
                case "dns":
                    let provider = try h.d.arg()
                    throw h.d.err("getting DNS provider module named '\(provider)': module not registered: dns.providers.\(provider)")
                case "resolvers", "propagation_delay", "propagation_timeout", "dns_challenge_override_domain":
                    throw h.d.err("\(h.d.val) requires a DNS provider (the dns subdirective), which this build does not have")
                case "ca_root":
                    let args = h.d.remainingArgs()
                    if args.count != 1 { throw h.d.argErr() }
                    let existing = acme?.first { $0.0 == "trusted_roots_pem_files" }?.1.arrayValues ?? []
                    setACME("trusted_roots_pem_files", .array(existing + [.string(args[0])]))
                case "on_demand":
                    if h.d.nextArg() { throw h.d.argErr() }
                    onDemand = true
                default:
                    throw h.d.err("unknown subdirective: \(h.d.val)")
                }
            }
            if first.isEmpty && !hasBlock { throw h.d.argErr() }
        }
        var values: [ConfigValue] = []
        if !fileLoaders.isEmpty { values.append(ConfigValue("tls.cert_loader", .json(.object([("load_files", .array(fileLoaders))])))) }
        if !folders.isEmpty { values.append(ConfigValue("tls.cert_loader", .json(.object([("load_folders", .strings(folders))])))) }
        if !issuers.isEmpty && (acme != nil || internalIssuer) {
            throw h.d.err("cannot mix issuer subdirective (explicit issuers) with other issuer-specific subdirectives (implicit issuers)")
        }
        if acme != nil && internalIssuer { throw h.d.err("cannot create both ACME and internal certificate issuers") }
        if !issuers.isEmpty {
            values += issuers.map { ConfigValue("tls.cert_issuer", .json($0)) }
        } else if let acme {
            let fields = JSONValue.object(acme)
            let ordered = ["ca", "email", "external_account", "trusted_roots_pem_files"].compactMap { k in fields[k].map { (k, $0) } }
            let acmeIssuer = JSONValue.object([("module", .string("acme"))] + ordered)
            if fields["ca"] != nil {
                values.append(ConfigValue("tls.cert_issuer", .json(acmeIssuer)))
            } else {
                values.append(ConfigValue("tls.cert_issuer", .json(acmeIssuer)))
                values.append(ConfigValue("tls.cert_issuer", .json(.object([("module", .string("zerossl"))] + ordered))))
            }
        } else if internalIssuer {
            values.append(ConfigValue("tls.cert_issuer", .json(.object([("module", .string("internal"))]))))
        }
        if let keyType { values.append(ConfigValue("tls.key_type", .json(.string(keyType)))) }
        if onDemand { values.append(ConfigValue("tls.on_demand", .flag)) }
        values += managers.map { ConfigValue("tls.cert_manager", .json($0)) }
        if !tags.isEmpty { policy.insert(("certificate_selection", .object([("any_tag", .strings(tags))])), at: 0) }
        if !ciphers.isEmpty { policy.append(("cipher_suites", .strings(ciphers))) }
        if !curveList.isEmpty { policy.append(("curves", .strings(curveList))) }
        let order = ["certificate_selection", "cipher_suites", "curves", "alpn", "protocol_min", "protocol_max", "client_authentication"]
        let sorted = JSONValue.object(policy).objectMembers.sorted { (order.firstIndex(of: $0.0) ?? 99) < (order.firstIndex(of: $1.0) ?? 99) }
        values.append(ConfigValue("tls.connection_policy", .json(.object(sorted))))
        return values
    }

    static func clientAuth(_ d: inout Dispenser) throws -> JSONValue {
        var mode: String?, caCerts: [String] = [], leafCerts: [String] = []
        let level = d.nesting
        while d.nextBlock(level) {
            let sub = d.val
            switch sub {
            case "mode":
                mode = try d.arg()
                if d.nextArg() { throw d.argErr() }
            case "trusted_ca_cert", "trusted_leaf_cert":
                let v = try d.arg()
                if sub == "trusted_ca_cert" { caCerts.append(v) } else { leafCerts.append(v) }
            case "trusted_ca_cert_file", "trusted_leaf_cert_file":
                let file = try d.arg()
                let data: [UInt8]
                do { data = try RegularFile.read(file, limit: 1 << 20) } catch let e as RegularFile.Failure {
                    throw d.err("reading \(sub) \(file): \(e.message)")
                }
                guard let der = PEMBlock.firstCertificate(String(decoding: data, as: UTF8.self)) else {
                    throw d.err("no CERTIFICATE pem block found in \(file)")
                }
                if sub == "trusted_ca_cert_file" { caCerts.append(der) } else { leafCerts.append(der) }
            default:
                throw d.err("unknown subdirective for client_auth: \(sub)")
            }
        }
        return .object([("trusted_ca_certs", caCerts.isEmpty ? nil : .strings(caCerts)),
                        ("trusted_leaf_certs", leafCerts.isEmpty ? nil : .strings(leafCerts)), ("mode", mode.map(JSONValue.string))])
    }
}

/// The base64 body of the first `CERTIFICATE` block of a PEM text.
enum PEMBlock {
    static func firstCertificate(_ pem: String) -> String? {
        guard let begin = pem.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex) else { return nil }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        // Base64 only, whole groups of four: anything else is not a PEM block.
        guard !body.isEmpty, body.count % 4 == 0,
              body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" || $0 == "=") }) else { return nil }
        return body
    }
}
