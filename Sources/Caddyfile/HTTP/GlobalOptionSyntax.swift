import QuantumCore

/// `admin [off|ADDRESS] { origins ...; enforce_origin }`.
enum AdminOptionSyntax {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var disabled = false, listen: String?, enforce = false, origins: [String]?
        while d.next() {
            if d.nextArg() {
                if d.val == "off" {
                    disabled = true
                    if d.next() { throw d.err("No more option is allowed after turning off admin config") }
                } else {
                    listen = d.val
                    if d.nextArg() { throw d.argErr() }
                }
            }
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "enforce_origin": enforce = true
                case "origins": origins = d.remainingArgs()
                default: throw d.err("unrecognized parameter '\(d.val)'")
                }
            }
        }
        if listen == nil && !disabled { listen = "localhost:2019" }
        return .object([("disabled", disabled ? .bool(true) : nil), ("listen", listen.map(JSONValue.string)),
                        ("enforce_origin", enforce ? .bool(true) : nil), ("origins", origins.map(JSONValue.strings))])
    }
}

/// `on_demand_tls { ask URL; interval D; burst N }`.
enum OnDemandSyntax {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var ask: String?, interval: Int64?, burst: Int?, hasRate = false
        while d.next() {
            if d.nextArg() { throw d.argErr() }
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "ask": ask = try d.arg()
                case "interval":
                    let v = try d.arg()
                    guard let n = CaddyDuration.parse(v) else { throw d.err("time: invalid duration \"\(v)\"") }
                    interval = n
                    hasRate = true
                case "burst":
                    let v = try d.arg()
                    guard let n = Int(v) else { throw d.err("strconv.Atoi: parsing \"\(v)\": invalid syntax") }
                    burst = n
                    hasRate = true
                default: throw d.err("unrecognized parameter '\(d.val)'")
                }
            }
        }
        if ask == nil && !hasRate { throw d.err("expected at least one config parameter for on_demand_tls") }
        let rate: JSONValue? = hasRate ? .object([("interval", interval.map { .number(String($0)) }), ("burst", burst.map(JSONValue.int))]) : nil
        return .object([("rate_limit", rate), ("ask", ask.map(JSONValue.string))])
    }
}

/// `preferred_chains [smallest] { root_common_name ...; any_common_name ... }`, the dispenser on the directive.
enum PreferredChains {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var smallest = false, root: [String]?, any: [String]?
        if d.nextArg() {
            guard d.val == "smallest" else { throw d.err("Invalid argument '\(d.val)'") }
            smallest = true
            if d.nextArg() { throw d.argErr() }
            if d.nextBlock(d.nesting) { throw d.err("No more options are accepted when using the 'smallest' option") }
        }
        let level = d.nesting
        while d.nextBlock(level) {
            switch d.val {
            case "root_common_name":
                let v = d.remainingArgs()
                if v.isEmpty { throw d.argErr() }
                if any != nil { throw d.err("Can't set root_common_name when any_common_name is already set") }
                root = v
            case "any_common_name":
                let v = d.remainingArgs()
                if v.isEmpty { throw d.argErr() }
                if root != nil { throw d.err("Can't set any_common_name when root_common_name is already set") }
                any = v
            default: throw d.err("Received unrecognized parameter '\(d.val)'")
            }
        }
        if !smallest && root == nil && any == nil { throw d.err("No options for preferred_chains received") }
        return .object([("smallest", smallest ? .bool(true) : nil), ("root_common_name", root.map(JSONValue.strings)), ("any_common_name", any.map(JSONValue.strings))])
    }
}

/// Modules configured by name in the Caddyfile that are not handlers: storage, DNS providers.
enum ModuleSyntax {
    /// `storage file_system [ROOT] { root ROOT }`; other storage modules are not available.
    static func storage(_ module: String, _ d: inout Dispenser) throws -> JSONValue {
        guard module == "file_system" else {
            throw d.err("getting storage module '\(module)': module not registered: caddy.storage.\(module)")
        }
        var root: String?
        if d.nextArg() { root = d.val }
        if d.nextArg() { throw d.argErr() }
        while d.nextBlock(0) {
            switch d.val {
            case "root":
                if root != nil { throw d.err("storage root already set") }
                root = try d.arg()
                if d.nextArg() { throw d.argErr() }
            default: throw d.err("unrecognized parameter '\(d.val)'")
            }
        }
        if root == nil || root!.isEmpty { throw d.err("missing root path (to use default, omit storage config entirely)") }
        return .object([("module", .string("file_system")), ("root", .string(root!))])
    }

    /// A module Caddy knows only through plugins (DNS providers): refused by name.
    static func generic(_ name: String, _ d: inout Dispenser) throws -> JSONValue {
        throw d.err("getting module named 'dns.providers.\(name)': module not registered: dns.providers.\(name)")
    }
}
