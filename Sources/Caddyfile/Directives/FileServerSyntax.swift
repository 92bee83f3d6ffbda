import QuantumCore

/// `file_server [browse] { root, hide, index, browse, precompressed, status, disable_canonical_uris, pass_thru }`;
/// the Caddyfiles themselves are hidden, as Caddy hides them.
enum FileServerSyntax {
    static func parse(_ h: inout Helper) throws -> JSONValue {
        var root: String?, hide: [String]?, index: [String]?, browse: JSONValue?, status: String?
        var canonical: Bool?, passThru = false
        var precompressed: [String]?
        while h.d.next() {
            let args = h.d.remainingArgs()
            switch args.count {
            case 0: break
            case 1:
                if args[0] != "browse" { throw h.d.argErr() }
                browse = .object([])
            default: throw h.d.argErr()
            }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "hide":
                    hide = h.d.remainingArgs()
                    if hide!.isEmpty { throw h.d.argErr() }
                case "index":
                    index = h.d.remainingArgs()
                    if index!.isEmpty { throw h.d.argErr() }
                case "root":
                    root = try h.d.arg()
                case "browse":
                    if browse != nil { throw h.d.err("browsing is already configured") }
                    browse = .object([("template_file", h.d.nextArg() ? .string(h.d.val) : nil)])
                case "precompressed":
                    var order: [String] = []
                    while h.d.nextArg() {
                        guard ["gzip", "zstd", "br"].contains(h.d.val) else {
                            throw h.d.err("getting module named 'http.precompressed.\(h.d.val)': module not registered: http.precompressed.\(h.d.val)")
                        }
                        order.append(h.d.val)
                    }
                    precompressed = order.isEmpty ? nil : order
                case "status":
                    status = try h.d.arg()
                case "disable_canonical_uris":
                    if h.d.nextArg() { throw h.d.argErr() }
                    canonical = false
                case "pass_thru":
                    if h.d.nextArg() { throw h.d.argErr() }
                    passThru = true
                default:
                    throw h.d.err("unknown subdirective '\(h.d.val)'")
                }
            }
        }
        var hidden = hide ?? []
        for file in Set(h.parentBlock.segments.flatMap { $0.map(\.file) }).sorted() where !file.isEmpty {
            let cleaned = file.contains("/") ? file : "./" + file
            if !hidden.contains(file) && !hidden.contains(cleaned) { hidden.append(cleaned) }
        }
        return .object([
            ("handler", .string("file_server")),
            ("root", root.map(JSONValue.string)),
            ("hide", hidden.isEmpty ? nil : .strings(hidden)),
            ("index_names", index.map(JSONValue.strings)),
            ("browse", browse),
            ("canonical_uris", canonical.map(JSONValue.bool)),
            ("status_code", status.map(StaticResponseSyntax.weakString)),
            ("pass_thru", passThru ? .bool(true) : nil),
            ("precompressed", precompressed.map { p in .object(p.map { ($0, .object([])) }.sorted { $0.0 < $1.0 }) }),
            ("precompressed_order", precompressed.map(JSONValue.strings)),
        ])
    }
}

/// `map SOURCE DEST... { INPUT OUTPUT...; default OUTPUT... }`.
enum MapSyntax {
    static func parse(_ h: inout Helper) throws -> JSONValue {
        var source = "", destinations: [String] = [], defaults: [String]?, mappings: [JSONValue] = []
        while h.d.next() {
            source = try h.d.arg()
            destinations = h.d.remainingArgs()
            if destinations.isEmpty { throw h.d.err("missing destination argument(s)") }
            while h.d.nextBlock(0) {
                let input = h.d.val
                if input == "default" {
                    if defaults != nil { throw h.d.err("defaults already defined") }
                    defaults = h.d.remainingArgs()
                    if defaults!.count != destinations.count {
                        throw h.d.err("\(defaults!.count) default values != \(destinations.count) destinations")
                    }
                    continue
                }
                var regex = false
                var key = input
                if key.hasPrefix("~") {
                    regex = true
                    key.removeFirst()
                }
                for m in mappings where (m["input"]?.stringValue ?? m["input_regexp"]?.stringValue) == key {
                    _ = m
                    throw h.d.err("duplicate inputs")
                }
                var outputs: [JSONValue] = []
                while h.d.nextArg() {
                    let t = h.d.token
                    outputs.append(t.text == "-" ? .null : VarsSyntax.scalar(t))
                }
                if outputs.count > destinations.count { throw h.d.err("too many outputs") }
                while outputs.count < destinations.count { outputs.append(.null) }
                mappings.append(.object([(regex ? "input_regexp" : "input", .string(key)), ("outputs", .array(outputs))]))
            }
        }
        return .object([("handler", .string("map")), ("source", .string(source)), ("destinations", .strings(destinations)),
                        ("mappings", mappings.isEmpty ? nil : .array(mappings)), ("defaults", defaults.map(JSONValue.strings))])
    }
}

/// `basicauth [MATCHER] [bcrypt|scrypt [REALM]] { USER HASH [SALT] }`.
enum BasicAuthSyntax {
    static func parse(_ h: inout Helper) throws -> JSONValue {
        var accounts: [JSONValue] = []
        var algorithm = "bcrypt", realm: String?
        while h.d.next() {
            let args = h.d.remainingArgs()
            switch args.count {
            case 0: break
            case 1: algorithm = args[0]
            case 2: algorithm = args[0]; realm = args[1]
            default: throw h.d.argErr()
            }
            while h.d.nextBlock(0) {
                let user = h.d.val
                guard h.d.nextArg() else { throw h.d.argErr() }
                let hash = h.d.val
                var salt: String?
                if h.d.nextArg() { salt = h.d.val }
                if h.d.nextArg() { throw h.d.argErr() }
                accounts.append(.object([("username", .string(user)), ("password", .string(hash)), ("salt", salt.map(JSONValue.string))]))
            }
        }
        let hash: JSONValue
        switch algorithm {
        case "bcrypt": hash = .object([("algorithm", .string("bcrypt"))])
        case "scrypt": hash = .object([("algorithm", .string("scrypt"))])
        default: throw h.d.err("unrecognized hash algorithm: \(algorithm)")
        }
        return .object([("handler", .string("authentication")), ("providers", .object([("http_basic", .object([
            ("accounts", .array(accounts)), ("hash", hash), ("hash_cache", .object([])), ("realm", realm.map(JSONValue.string)),
        ]))]))])
    }
}

/// Quantum's own handlers in the Caddyfile: `file_sync ROOT { ... }` and `websocket_echo`.
enum QuantumDirectives {
    /// `file_sync [ROOT] { root, enable_upload [off], max_upload_size, tokens, allowed_origins, ignore,
    /// history, prefix, page, heartbeat_interval, watch off }`.
    static func fileSync(_ h: inout Helper) throws -> JSONValue {
        var fields: [(String, JSONValue)] = [("handler", .string("file_sync"))]
        func set(_ key: String, _ value: JSONValue) {
            fields.removeAll { $0.0 == key }
            fields.append((key, value))
        }
        while h.d.next() {
            if h.d.nextArg() { set("root", .string(h.d.val)) }
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                let key = h.d.val
                switch key {
                case "root", "prefix", "page":
                    set(key, .string(try h.d.arg()))
                case "enable_upload", "watch":
                    let on = h.d.nextArg() ? !["off", "false"].contains(h.d.val) : true
                    set(key, .bool(on))
                case "tokens", "allowed_origins", "ignore":
                    let list = h.d.remainingArgs()
                    if list.isEmpty { throw h.d.argErr() }
                    set(key, .strings(list))
                case "history":
                    let v = try h.d.arg()
                    guard let n = Int(v) else { throw h.d.err("history must be a number, got '\(v)'") }
                    set(key, .int(n))
                case "max_upload_size":
                    let v = try h.d.arg()
                    guard let n = ByteSize.parse(v) else { throw h.d.err("parsing max_upload_size: \(v)") }
                    set(key, .number(String(n)))
                case "heartbeat_interval":
                    let v = try h.d.arg()
                    guard let n = CaddyDuration.parse(v) else { throw h.d.err("time: invalid duration \"\(v)\"") }
                    set(key, .number(String(n)))
                default:
                    throw h.d.err("unrecognized subdirective '\(key)'")
                }
                if h.d.nextArg() { throw h.d.argErr() }
            }
        }
        return .object(fields)
    }

    static func websocketEcho(_ h: inout Helper) throws -> JSONValue {
        while h.d.next() {
            if h.d.nextArg() || h.d.nextBlock(0) { throw h.d.argErr() }
        }
        return .object([("handler", .string("websocket_echo"))])
    }
}
