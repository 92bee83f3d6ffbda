import QuantumCore

/// The `log` directive and global option: where logs go (`output`), how they are encoded
/// (`format`), their `level` and, globally, which loggers they `include`/`exclude`.
enum LogSyntax {
    /// `log [NAME] { ... }` in the global options; a missing name is the default logger.
    static func parseGlobal(_ d: inout Dispenser, state: AdapterState) throws -> [NamedLog] {
        var out: [NamedLog] = []
        while d.next() {
            var name = "default"
            if d.nextArg() {
                name = d.val
                if d.nextArg() { throw d.argErr() }
            }
            if state.options.logs.contains(where: { $0.name == name }) || out.contains(where: { $0.name == name }) {
                throw d.err("duplicate global log option for: \(name)")
            }
            let (log, _) = try body(&d, global: true)
            out.append(NamedLog(name: name, log: log))
        }
        return out
    }

    /// `log { ... }` in a site: an access logger named log0, log1, ... (none when empty).
    static func parseSite(_ h: inout Helper) throws -> [ConfigValue] {
        var values: [ConfigValue] = []
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            var (log, hostnames) = try body(&h.d, global: false)
            var named = NamedLog(name: "", log: .object([]), hostnames: hostnames)
            if !log.objectMembers.isEmpty {
                let counter = Int(h.state.values["logCounter"] ?? "0") ?? 0
                named.name = "log\(counter)"
                h.state.values["logCounter"] = String(counter + 1)
                log.set("include", .strings(["http.log.access." + named.name]))
                named.log = log
            }
            values.append(ConfigValue("custom_log", .log(named)))
        }
        return values
    }

    private static func body(_ d: inout Dispenser, global: Bool) throws -> (JSONValue, [String]) {
        var writer: JSONValue?, encoder: JSONValue?, level: String?, include: [String]?, exclude: [String]?
        var hostnames: [String] = []
        while d.nextBlock(0) {
            switch d.val {
            case "hostnames":
                if global { throw d.err("hostnames is not allowed in the log global options") }
                let args = d.remainingArgs()
                if args.isEmpty { throw d.argErr() }
                hostnames += args
            case "output":
                let module = try d.arg()
                writer = try self.writer(module, &d)
            case "format":
                let module = try d.arg()
                encoder = try self.encoder(module, &d)
            case "level":
                level = try d.arg()
                if d.nextArg() { throw d.argErr() }
            case "include":
                if !global { throw d.err("include is not allowed in the log directive") }
                include = (include ?? []) + d.remainingArgs()
            case "exclude":
                if !global { throw d.err("exclude is not allowed in the log directive") }
                exclude = (exclude ?? []) + d.remainingArgs()
            default:
                throw d.err("unrecognized subdirective: \(d.val)")
            }
        }
        let log = JSONValue.object([("writer", writer), ("encoder", encoder), ("level", level.map(JSONValue.string)),
                                    ("include", include.map(JSONValue.strings)), ("exclude", exclude.map(JSONValue.strings))])
        return (log, hostnames)
    }

    static func writer(_ module: String, _ d: inout Dispenser) throws -> JSONValue {
        switch module {
        case "stdout", "stderr", "discard":
            return .object([("output", .string(module))])
        case "file":
            let filename = try d.arg()
            if d.nextArg() { throw d.argErr() }
            var fields: [(String, JSONValue?)] = [("output", .string("file")), ("filename", .string(filename))]
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "roll_disabled":
                    if d.nextArg() { throw d.argErr() }
                    fields.append(("roll", .bool(false)))
                case "roll_size":
                    let v = try d.arg()
                    guard let bytes = ByteSize.parse(v) else { throw d.err("parsing size: \(v)") }
                    fields.append(("roll_size_mb", .int(Int((Double(bytes) / 1_048_576).rounded(.up)))))
                case "roll_uncompressed":
                    if d.nextArg() { throw d.argErr() }
                    fields.append(("roll_gzip", .bool(false)))
                case "roll_local_time":
                    if d.nextArg() { throw d.argErr() }
                    fields.append(("roll_local_time", .bool(true)))
                case "roll_keep":
                    let v = try d.arg()
                    guard let n = Int(v) else { throw d.err("parsing roll_keep number: \(v)") }
                    fields.append(("roll_keep", .int(n)))
                case "roll_keep_for":
                    let v = try d.arg()
                    guard let ns = CaddyDuration.parse(v) else { throw d.err("parsing roll_keep_for duration: \(v)") }
                    if ns % (24 * 3_600_000_000_000) != 0 { throw d.err("duration must be a multiple of 24h") }
                    fields.append(("roll_keep_days", .int(Int(ns / (24 * 3_600_000_000_000)))))
                default:
                    throw d.err("unrecognized subdirective: \(d.val)")
                }
            }
            return .object(fields)
        case "net":
            let address = try d.arg()
            if d.nextArg() { throw d.argErr() }
            var fields: [(String, JSONValue?)] = [("output", .string("net")), ("address", .string(address))]
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "dial_timeout":
                    let v = try d.arg()
                    guard let ns = CaddyDuration.parse(v) else { throw d.err("invalid duration: \(v)") }
                    fields.append(("dial_timeout", .number(String(ns))))
                case "soft_start": fields.append(("soft_start", .bool(true)))
                default: throw d.err("unrecognized subdirective: \(d.val)")
                }
            }
            return .object(fields)
        default:
            throw d.err("getting module named 'caddy.logging.writers.\(module)': module not registered: caddy.logging.writers.\(module)")
        }
    }

    static let encoderKeys = ["message_key", "level_key", "time_key", "name_key", "caller_key", "stacktrace_key", "line_ending", "time_format", "duration_format", "level_format"]

    static func encoder(_ module: String, _ d: inout Dispenser) throws -> JSONValue {
        switch module {
        case "console", "json":
            if d.nextArg() { throw d.argErr() }
            var fields: [(String, JSONValue?)] = [("format", .string(module))]
            let level = d.nesting
            while d.nextBlock(level) {
                let key = d.val
                guard encoderKeys.contains(key) else { throw d.err("unrecognized subdirective: \(key)") }
                let v = try d.arg()
                if d.nextArg() { throw d.argErr() }
                fields.append((key, .string(v)))
            }
            return .object(fields)
        case "filter":
            var wrap: JSONValue?, filters: [(String, JSONValue)] = []
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "wrap":
                    let inner = try d.arg()
                    wrap = try encoder(inner, &d)
                case "fields":
                    let fieldLevel = d.nesting
                    while d.nextBlock(fieldLevel) {
                        let field = d.val
                        let filter = try d.arg()
                        filters.append((field, try LogFilterSyntax.parse(filter, &d)))
                    }
                default:
                    throw d.err("unrecognized subdirective: \(d.val)")
                }
            }
            return .object([("fields", filters.isEmpty ? nil : .object(filters)), ("format", .string("filter")), ("wrap", wrap)])
        default:
            throw d.err("getting module named 'caddy.logging.encoders.\(module)': module not registered: caddy.logging.encoders.\(module)")
        }
    }
}

/// Field filters of the `filter` log encoder.
enum LogFilterSyntax {
    static func parse(_ name: String, _ d: inout Dispenser) throws -> JSONValue {
        switch name {
        case "delete", "hash":
            return .object([("filter", .string(name))])
        case "replace":
            var value: String?
            if d.nextArg() { value = d.val }
            return .object([("filter", .string("replace")), ("value", value.map(JSONValue.string))])
        case "ip_mask":
            var v4: Int?, v6: Int?
            _ = d.remainingArgs()  // Caddy 2.6.2 reads the masks from the block only
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "ipv4", "ipv6":
                    let which = d.val
                    let text = try d.arg()
                    guard let bits = Int(text) else { throw d.err("error parsing \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax") }
                    if which == "ipv4" { v4 = bits } else { v6 = bits }
                default: throw d.err("unrecognized subdirective \(d.val)")
                }
            }
            return .object([("filter", .string("ip_mask")), ("ipv4_cidr", v4.map(JSONValue.int)), ("ipv6_cidr", v6.map(JSONValue.int))])
        case "regexp":
            let pattern = try d.arg(), value = try d.arg()
            return .object([("filter", .string("regexp")), ("regexp", .string(pattern)), ("value", .string(value))])
        case "query", "cookie":
            var actions: [JSONValue] = []
            let level = d.nesting
            while d.nextBlock(level) {
                let type = d.val
                guard ["replace", "hash", "delete"].contains(type) else { throw d.err("unrecognized subdirective \(type)") }
                let parameter = try d.arg()
                var value: String?
                if type == "replace" { value = try d.arg() }
                actions.append(.object([("type", .string(type)), ("parameter", .string(parameter)), ("value", value.map(JSONValue.string))]))
            }
            return .object([("filter", .string(name)), ("actions", .array(actions))])
        default:
            throw d.err("getting module named 'caddy.logging.encoders.filter.\(name)': module not registered: caddy.logging.encoders.filter.\(name)")
        }
    }
}
