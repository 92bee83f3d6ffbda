import QuantumCore

/// Certificate issuers as the `tls` directive's `issuer` and the `cert_issuer` option write
/// them: `acme`, `zerossl`, `internal`.
enum IssuerSyntax {
    /// Parses an issuer whose name was just read; the block follows on the same line.
    static func parse(_ name: String, _ d: inout Dispenser) throws -> JSONValue {
        switch name {
        case "acme":
            var acme = try acmeFields(&d)
            acme.insert(("module", .string("acme")), at: 0)
            return .object(acme)
        case "zerossl":
            var apiKey: String?
            if d.nextArg() {
                apiKey = d.val
                if d.nextArg() { throw d.argErr() }
            }
            var fields = try acmeFields(&d, readCA: false)
            fields.insert(("module", .string("zerossl")), at: 0)
            if let apiKey { fields.append(("api_key", .string(apiKey))) }
            return .object(fields)
        case "internal":
            var ca: String?, lifetime: Int64?, signWithRoot = false
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "ca": ca = try d.arg()
                case "lifetime":
                    let v = try d.arg()
                    guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                    lifetime = n
                case "sign_with_root":
                    if d.nextArg() { throw d.argErr() }
                    signWithRoot = true
                default: throw d.err("unrecognized subdirective '\(d.val)'")
                }
            }
            return .object([("module", .string("internal")), ("ca", ca.map(JSONValue.string)),
                            ("lifetime", lifetime.map { .number(String($0)) }), ("sign_with_root", signWithRoot ? .bool(true) : nil)])
        default:
            throw d.err("getting issuer module '\(name)': module not registered: tls.issuance.\(name)")
        }
    }

    /// An ACME issuer's fields in Caddy's JSON order.
    static func acmeFields(_ d: inout Dispenser, readCA: Bool = true) throws -> [(String, JSONValue)] {
        var ca: String?, testCA: String?, email: String?, timeout: Int64?, eab: JSONValue?, roots: [String]?, chains: JSONValue?
        var httpChallenge: [(String, JSONValue)] = [], alpnChallenge: [(String, JSONValue)] = [], dnsChallenge: [(String, JSONValue)] = []
        if readCA && d.nextArg() {
            ca = d.val
            if d.nextArg() { throw d.argErr() }
        }
        let level = d.nesting
        while d.nextBlock(level) {
            switch d.val {
            case "dir":
                if let ca { throw d.err("directory is already specified: \(ca)") }
                ca = try onlyArg(&d)
            case "test_dir": testCA = try onlyArg(&d)
            case "email": email = try onlyArg(&d)
            case "timeout":
                let v = try onlyArg(&d)
                guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                timeout = n
            case "disable_http_challenge":
                if d.nextArg() { throw d.argErr() }
                httpChallenge.append(("disabled", .bool(true)))
            case "disable_tlsalpn_challenge":
                if d.nextArg() { throw d.argErr() }
                alpnChallenge.append(("disabled", .bool(true)))
            case "alt_http_port", "alt_tlsalpn_port":
                let v = try d.arg()
                guard let port = Int(v) else { throw d.err("invalid port \(v): strconv.Atoi: parsing \"\(v)\": invalid syntax") }
                if d.val == "alt_http_port" { httpChallenge.append(("alternate_port", .int(port))) } else { alpnChallenge.append(("alternate_port", .int(port))) }
            case "eab":
                let key = try d.arg(), mac = try d.arg()
                if d.nextArg() { throw d.argErr() }
                eab = .object([("key_id", .string(key)), ("mac_key", .string(mac))])
            case "trusted_roots": roots = d.remainingArgs()
            case "preferred_chains": chains = try PreferredChains.parse(&d)
            case "dns":
                let provider = try d.arg()
                _ = try ModuleSyntax.generic(provider, &d)
            case "propagation_delay", "propagation_timeout", "dns_ttl":
                let key = d.val == "dns_ttl" ? "ttl" : d.val
                let v = try d.arg()
                if key == "propagation_timeout" && v == "-1" {
                    dnsChallenge.append((key, .int(-1)))
                } else {
                    guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                    dnsChallenge.append((key, .number(String(n))))
                }
            case "resolvers":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                dnsChallenge.append(("resolvers", .strings(list)))
            case "dns_challenge_override_domain":
                dnsChallenge.append(("override_domain", .string(try d.arg())))
            default:
                throw d.err("unrecognized ACME issuer property: \(d.val)")
            }
        }
        var challenges: [(String, JSONValue)] = []
        if !httpChallenge.isEmpty { challenges.append(("http", .object(httpChallenge))) }
        if !alpnChallenge.isEmpty { challenges.append(("tls-alpn", .object(alpnChallenge))) }
        if !dnsChallenge.isEmpty { challenges.append(("dns", .object(dnsChallenge))) }
        return JSONValue.object([
            ("ca", ca.map(JSONValue.string)), ("test_ca", testCA.map(JSONValue.string)), ("email", email.map(JSONValue.string)),
            ("external_account", eab), ("acme_timeout", timeout.map { .number(String($0)) }),
            ("challenges", challenges.isEmpty ? nil : .object(challenges)),
            ("trusted_roots_pem_files", roots.map(JSONValue.strings)), ("preferred_chains", chains),
        ]).objectMembers
    }

    private static func onlyArg(_ d: inout Dispenser) throws -> String {
        let v = try d.arg()
        if d.nextArg() { throw d.argErr() }
        return v
    }
}
