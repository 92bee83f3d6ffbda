import QuantumCore

/// `rewrite`, `method`, `uri` and `try_files`: Caddy's rewrite handler in its Caddyfile forms.
enum RewriteSyntax {
    /// `rewrite [MATCHER] URI`.
    static func rewrite(_ h: inout Helper) throws -> JSONValue { try single(&h, field: "uri") }

    /// `method [MATCHER] METHOD`.
    static func method(_ h: inout Helper) throws -> JSONValue { try single(&h, field: "method") }

    /// A rewrite handler setting one field from the directive's one argument.
    private static func single(_ h: inout Helper, field: String) throws -> JSONValue {
        var value = ""
        while h.d.next() {
            value = try h.d.arg()
            if h.d.nextArg() { throw h.d.argErr() }
        }
        return .object([("handler", .string("rewrite")), (field, .string(value))])
    }

    static func uri(_ h: inout Helper) throws -> JSONValue {
        var prefix: String?, suffix: String?
        var substrings: [JSONValue] = [], regexps: [JSONValue] = []
        while h.d.next() {
            let args = h.d.remainingArgs()
            if args.count < 2 { throw h.d.argErr() }
            switch args[0] {
            case "strip_prefix":
                if args.count > 2 { throw h.d.argErr() }
                prefix = args[1].hasPrefix("/") ? args[1] : "/" + args[1]
            case "strip_suffix":
                if args.count > 2 { throw h.d.argErr() }
                suffix = args[1]
            case "replace":
                guard args.count == 3 || args.count == 4 else { throw h.d.argErr() }
                var limit = 0
                if args.count == 4 {
                    guard let n = Int(args[3]) else { throw h.d.err("limit must be an integer; invalid: strconv.Atoi: parsing \"\(args[3])\": invalid syntax") }
                    limit = n
                }
                substrings.append(.object([("find", .string(args[1])), ("replace", .string(args[2])), ("limit", limit == 0 ? nil : .int(limit))]))
            case "path_regexp":
                guard args.count == 3 else { throw h.d.argErr() }
                regexps.append(.object([("find", .string(args[1])), ("replace", .string(args[2]))]))
            default:
                throw h.d.err("unrecognized URI manipulation '\(args[0])'")
            }
        }
        return .object([("handler", .string("rewrite")), ("strip_path_prefix", prefix.map(JSONValue.string)),
                        ("strip_path_suffix", suffix.map(JSONValue.string)),
                        ("uri_substring", substrings.isEmpty ? nil : .array(substrings)), ("path_regexp", regexps.isEmpty ? nil : .array(regexps))])
    }

    static func tryFiles(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let files = h.d.remainingArgs()
        if files.isEmpty { throw h.d.argErr() }
        var policy: String?
        let level = h.d.nesting
        while h.d.nextBlock(level) {
            if h.d.val == "policy" {
                if policy != nil { throw h.d.err("try policy already configured") }
                let p = try h.d.arg()
                guard ["first_exist", "largest_size", "smallest_size", "most_recently_modified"].contains(p) else {
                    throw h.d.err("unrecognized try policy: \(p)")
                }
                policy = p
            }
        }
        func route(_ list: [String], _ query: String) -> [ConfigValue] {
            let matcher = JSONValue.object([("file", .object([("try_files", .strings(list)), ("try_policy", policy.map(JSONValue.string))]))])
            return h.newRoute(matcher, .object([("handler", .string("rewrite")), ("uri", .string("{http.matchers.file.relative}" + query))]))
        }
        var result: [ConfigValue] = []
        var pending: [String] = []
        for item in files {
            if let q = item.firstIndex(of: "?") {
                if !pending.isEmpty {
                    result += route(pending, "")
                    pending = []
                }
                result += route([String(item[..<q])], String(item[q...]))
                continue
            }
            pending.append(item)
        }
        if !pending.isEmpty { result += route(pending, "") }
        h.groupRoutes(&result)
        return result
    }
}
