import QuantumCore

/// The global options block, parsed (Caddy's `options` map, typed).
struct GlobalOptions {
    var debug = false
    var httpPort: Int?
    var httpsPort: Int?
    var defaultBind: [String]?
    var gracePeriod: Int64?
    var shutdownDelay: Int64?
    var defaultSNI: String?
    var autoHTTPS: String?
    var email: String?
    var acmeCA: String?
    var acmeCARoot: String?
    var acmeEAB: JSONValue?
    var acmeDNS: JSONValue?
    var certIssuers: [JSONValue]?
    var localCerts = false
    var skipInstallTrust = false
    var keyType: String?
    var onDemandTLS: JSONValue?
    var storage: JSONValue?
    var storageCleanInterval: Int64?
    var renewInterval: Int64?
    var ocspInterval: Int64?
    var ocspStapling: JSONValue?
    var admin: JSONValue?
    var persistConfigOff = false
    var servers: [ServerOptions] = []
    var logs: [NamedLog] = []
    var preferredChains: JSONValue?
    var pki: [(String, JSONValue)] = []
    /// Apps a global option adds whole (e.g. `events`).
    var apps: [(String, JSONValue)] = []
}

/// Parses the global options block (Caddy's registered global options).
enum GlobalOptionsParser {
    static func evaluate(_ block: ServerBlock, state: AdapterState) throws {
        for segment in block.segments {
            let name = segment[0].text
            var d = Dispenser(segment)
            do {
                try parse(name, &d, state: state)
            } catch let error as UnknownOption {
                throw CaddyfileError("\(segment[0].file):\(segment[0].line): unrecognized global option: \(error.name)")
            } catch let error as CaddyfileError {
                throw CaddyfileError("parsing caddyfile tokens for '\(name)': \(error.message)")
            }
        }
        var seen: Set<String> = []
        state.options.servers = stableSorted(state.options.servers) { $0.listenerAddress.utf8.count > $1.listenerAddress.utf8.count }
        for s in state.options.servers {
            if !seen.insert(s.listenerAddress).inserted {
                throw CaddyfileError("cannot have 'servers' global options with duplicate listener addresses: \(s.listenerAddress)")
            }
        }
    }

    struct UnknownOption: Error { let name: String }

    static func duration(_ d: inout Dispenser) throws -> Int64 {
        let text = try single(&d)
        guard let n = CaddyDuration.parse(text) else { throw d.err("time: invalid duration \"\(text)\"") }
        return n
    }

    static func single(_ d: inout Dispenser) throws -> String {
        d.next()
        guard d.nextArg() else { throw d.argErr() }
        let v = d.val
        if d.nextArg() { throw d.argErr() }
        return v
    }

    static func int(_ d: inout Dispenser) throws -> Int {
        let text = try single(&d)
        guard let n = Int(text) else { throw d.err("converting port '\(text)' to integer value: strconv.Atoi: parsing \"\(text)\": invalid syntax") }
        return n
    }

    static func parse(_ name: String, _ d: inout Dispenser, state: AdapterState) throws {
        switch name {
        case "debug": state.options.debug = true
        case "http_port": state.options.httpPort = try int(&d)
        case "https_port": state.options.httpsPort = try int(&d)
        case "default_bind":
            d.next()
            state.options.defaultBind = d.remainingArgs()
        case "grace_period": state.options.gracePeriod = try duration(&d)
        case "shutdown_delay": state.options.shutdownDelay = try duration(&d)
        case "default_sni": state.options.defaultSNI = try single(&d)
        case "order":
            d.next()
            guard d.nextArg() else { throw d.argErr() }
            let dir = d.val
            guard d.nextArg() else { throw d.argErr() }
            let position = d.val
            var other: String?
            if position == "before" || position == "after" {
                guard d.nextArg() else { throw d.argErr() }
                other = d.val
            }
            if d.nextArg() { throw d.argErr() }
            if Directives.registry[dir] == nil { throw d.err("\(dir) is not a registered directive") }
            if let other, !state.directiveOrder.contains(other) { throw d.err("directive '\(other)' not found") }
            try DirectiveOrder.apply(dir, position, other, to: &state.directiveOrder)
        case "storage":
            d.next()
            let module = try d.arg()
            state.options.storage = try ModuleSyntax.storage(module, &d)
        case "storage_check":
            let v = try single(&d)
            if v != "off" { throw d.err("storage_check must be 'off'") }
        case "storage_clean_interval":
            let v = try single(&d)
            if v == "off" { state.options.storageCleanInterval = nil } else {
                guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                state.options.storageCleanInterval = n
            }
        case "renew_interval": state.options.renewInterval = try duration(&d)
        case "ocsp_interval": state.options.ocspInterval = try duration(&d)
        case "acme_ca": state.options.acmeCA = try single(&d)
        case "acme_ca_root": state.options.acmeCARoot = try single(&d)
        case "email": state.options.email = try single(&d)
        case "acme_eab":
            d.next()
            if d.nextArg() { throw d.argErr() }
            var keyID: String?, mac: String?
            while d.nextBlock(0) {
                switch d.val {
                case "key_id": keyID = try d.arg()
                case "mac_key": mac = try d.arg()
                default: throw d.err("unrecognized parameter '\(d.val)'")
                }
            }
            state.options.acmeEAB = .object([("key_id", keyID.map(JSONValue.string)), ("mac_key", mac.map(JSONValue.string))])
        case "acme_dns":
            d.next()
            let provider = try d.arg()
            state.options.acmeDNS = try ModuleSyntax.generic(provider, &d)
        case "cert_issuer":
            d.next()
            let issuer = try d.arg()
            state.options.certIssuers = (state.options.certIssuers ?? []) + [try IssuerSyntax.parse(issuer, &d)]
        case "skip_install_trust": state.options.skipInstallTrust = true
        case "local_certs": state.options.localCerts = true
        case "key_type": state.options.keyType = try single(&d)
        case "auto_https":
            let v = try single(&d)
            guard ["off", "disable_redirects", "disable_certs", "ignore_loaded_certs"].contains(v) else {
                throw d.err("auto_https must be one of 'off', 'disable_redirects', 'disable_certs', or 'ignore_loaded_certs'")
            }
            state.options.autoHTTPS = v
        case "admin":
            state.options.admin = try AdminOptionSyntax.parse(&d)
        case "persist_config":
            let v = try single(&d)
            if v != "off" { throw d.err("persist_config must be 'off'") }
            state.options.persistConfigOff = true
        case "on_demand_tls":
            state.options.onDemandTLS = try OnDemandSyntax.parse(&d)
        case "ocsp_stapling":
            let v = try single(&d)
            if v != "off" { throw d.err("invalid argument '\(v)'") }
            state.options.ocspStapling = .object([("disable_ocsp_stapling", .bool(true))])
        case "preferred_chains":
            d.next()
            state.options.preferredChains = try PreferredChains.parse(&d)
        case "servers":
            state.options.servers.append(try ServerOptionsParser.parse(&d))
        case "log":
            state.options.logs += try LogSyntax.parseGlobal(&d, state: state)
        case "pki":
            state.options.pki = try PKISyntax.parseGlobal(&d, existing: state.options.pki)
        default:
            throw UnknownOption(name: name)
        }
    }
}
