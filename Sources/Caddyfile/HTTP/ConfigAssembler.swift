import QuantumCore

/// Puts the pieces together into the top-level config: admin, logging, storage and the apps.
struct ConfigAssembler {
    let state: AdapterState

    func assemble(servers: [ServerBuilder.Server], pairings: [Pairing]) throws -> JSONValue {
        let o = state.options
        var apps: [(String, JSONValue)] = []
        if !servers.isEmpty {
            apps.append(("http", .object([
                ("http_port", o.httpPort.map(JSONValue.int)),
                ("https_port", o.httpsPort.map(JSONValue.int)),
                ("grace_period", o.gracePeriod.map { .number(String($0)) }),
                ("shutdown_delay", o.shutdownDelay.map { .number(String($0)) }),
                ("servers", .object(servers.map { ($0.name, $0.json) })),
            ])))
        }
        if let pki = try PKIAppBuilder(state: state).build(pairings) { apps.append(("pki", pki)) }
        if let tls = try TLSAppBuilder(state: state).build(pairings) { apps.append(("tls", tls)) }
        apps += o.apps

        var admin = o.admin
        if o.persistConfigOff {
            var a = admin ?? .object([])
            a.set("config", .object([("persist", .bool(false))]))
            admin = a
        }
        return .object([
            ("admin", admin),
            ("logging", logging(pairings)),
            ("storage", o.storage),
            ("apps", apps.isEmpty ? nil : .object(apps)),
        ])
    }

    /// Loggers from the global `log` options and the sites' `log` directives; access logs are
    /// kept out of the default log.
    private func logging(_ pairings: [Pairing]) -> JSONValue? {
        let debug = state.options.debug
        var logs: [NamedLog] = []
        var hasDefault = false
        func add(_ log: NamedLog) {
            guard !log.name.isEmpty else { return }
            var l = log
            if l.name == "default" { hasDefault = true }
            if debug && l.log["level"] == nil { l.log.set("level", .string("DEBUG")) }
            logs.append(l)
        }
        for l in state.options.logs { add(l) }
        if !hasDefault && debug { logs.append(NamedLog(name: "default", log: .object([("level", .string("DEBUG"))]))) }
        for pair in pairings {
            for site in pair.blocks {
                for v in site.pile["custom_log"] ?? [] {
                    if case .log(let l) = v.value { add(l) }
                }
            }
        }
        guard !logs.isEmpty else { return nil }
        var byName: [(String, JSONValue)] = []
        func put(_ name: String, _ value: JSONValue) {
            if let i = byName.firstIndex(where: { $0.0 == name }) { byName[i].1 = value } else { byName.append((name, value)) }
        }
        for l in logs {
            put(l.name, l.log)
            if l.name != "default", let include = l.log["include"]?.arrayValues, !include.isEmpty {
                var def = byName.first { $0.0 == "default" }?.1 ?? .object([])
                def.set("exclude", .array((def["exclude"]?.arrayValues ?? []) + include))
                put("default", def)
            }
        }
        return .object([("logs", .object(byName.sorted { $0.0 < $1.0 }))])
    }
}

/// The PKI app: CAs configured by the `pki` option, plus what `acme_server` and `local_certs`
/// imply (Caddy's `buildPKIApp`).
struct PKIAppBuilder {
    let state: AdapterState

    func build(_ pairings: [Pairing]) throws -> JSONValue? {
        let skipTrust = state.options.skipInstallTrust
        var cas = state.options.pki
        if skipTrust { for i in cas.indices { cas[i].1.set("install_trust", .bool(false)) } }
        for pair in pairings {
            for site in pair.blocks {
                for v in site.pile["pki.ca"] ?? [] {
                    guard let id = v.json?["id"]?.stringValue, !cas.contains(where: { $0.0 == id }) else { continue }
                    cas.append((id, skipTrust ? .object([("install_trust", .bool(false))]) : .object([])))
                }
            }
        }
        if cas.isEmpty && skipTrust { cas.append(("local", .object([("install_trust", .bool(false))]))) }
        guard !cas.isEmpty else { return nil }
        return .object([("certificate_authorities", .object(cas.sorted { $0.0 < $1.0 }))])
    }
}

/// The `pki` global option: `pki { ca [ID] { name, root_cn, intermediate_cn, intermediate_lifetime, root {...}, intermediate {...} } }`.
enum PKISyntax {
    static func parseGlobal(_ d: inout Dispenser, existing: [(String, JSONValue)]) throws -> [(String, JSONValue)] {
        var cas = existing
        while d.next() {
            let level = d.nesting
            while d.nextBlock(level) {
                guard d.val == "ca" else { throw d.err("unrecognized pki option '\(d.val)'") }
                var id = "local"
                if d.nextArg() {
                    id = d.val
                    if d.nextArg() { throw d.argErr() }
                }
                var fields: [(String, JSONValue?)] = []
                let caLevel = d.nesting
                while d.nextBlock(caLevel) {
                    switch d.val {
                    case "name": fields.append(("name", .string(try d.arg())))
                    case "root_cn": fields.append(("root_common_name", .string(try d.arg())))
                    case "intermediate_cn": fields.append(("intermediate_common_name", .string(try d.arg())))
                    case "intermediate_lifetime":
                        let v = try d.arg()
                        guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                        fields.append(("intermediate_lifetime", .number(String(n))))
                    case "root", "intermediate":
                        let which = d.val
                        var key: [(String, JSONValue?)] = []
                        let keyLevel = d.nesting
                        while d.nextBlock(keyLevel) {
                            switch d.val {
                            case "cert": key.append(("certificate", .string(try d.arg())))
                            case "key": key.append(("private_key", .string(try d.arg())))
                            case "format": key.append(("format", .string(try d.arg())))
                            default: throw d.err("unrecognized pki ca \(which) option '\(d.val)'")
                            }
                        }
                        fields.append((which, .object(key)))
                    default:
                        throw d.err("unrecognized pki ca option '\(d.val)'")
                    }
                }
                cas.removeAll { $0.0 == id }
                cas.append((id, .object(fields)))
            }
        }
        return cas
    }
}
