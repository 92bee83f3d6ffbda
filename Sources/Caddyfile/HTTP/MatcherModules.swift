import QuantumCore

/// The Caddyfile syntax of each request matcher module, producing its JSON (Caddy's
/// `UnmarshalCaddyfile` of `http.matchers.*`).
enum MatcherModules {
    static func parse(_ name: String, _ dispenser: Dispenser) throws -> JSONValue {
        var d = dispenser
        switch name {
        case "host", "path":
            var list: [String] = []
            while d.next() {
                list += d.remainingArgs()
                if d.nextBlock(0) { throw d.err("malformed \(name) matcher: blocks are not supported") }
            }
            return .strings(list)
        case "method":
            var list: [String] = []
            while d.next() {
                while d.nextArg() { list.append(d.val.uppercased()) }
                if d.nextBlock(0) { throw d.err("malformed method matcher: blocks are not supported") }
            }
            return .strings(list)
        case "path_regexp":
            var result: JSONValue = .object([])
            while d.next() {
                if !result.objectMembers.isEmpty { throw d.err("regexp matcher already specified") }
                let args = d.remainingArgs()
                switch args.count {
                case 1: result = .object([("pattern", .string(args[0]))])
                case 2: result = .object([("name", .string(args[0])), ("pattern", .string(args[1]))])
                default: throw d.argErr()
                }
                if d.nextBlock(0) { throw d.err("malformed path_regexp matcher: blocks are not supported") }
            }
            return result
        case "header":
            var fields = OrderedFields()
            while d.next() {
                guard d.nextArg() else { throw d.err("malformed header matcher: expected field") }
                var field = d.val
                if field.hasPrefix("!") {
                    if field.count == 1 { throw d.err("malformed header matcher: must have field name following ! character") }
                    field.removeFirst()
                    fields.setNull(field)
                    if d.nextArg() { throw d.err("malformed header matcher: null matching headers cannot have a field value") }
                } else {
                    guard d.nextArg() else { throw d.err("malformed header matcher: expected both field and value") }
                    fields.add(HTTPFields.canonicalName(field), d.val)
                }
                if d.nextBlock(0) { throw d.err("malformed header matcher: blocks are not supported") }
            }
            return fields.json
        case "header_regexp", "vars_regexp":
            var members: [(String, JSONValue)] = []
            while d.next() {
                let args = d.remainingArgs()
                let field: String, value: JSONValue
                switch args.count {
                case 2: (field, value) = (args[0], .object([("pattern", .string(args[1]))]))
                case 3: (field, value) = (args[1], .object([("name", .string(args[0])), ("pattern", .string(args[2]))]))
                default: throw d.argErr()
                }
                members.removeAll { $0.0 == field }
                members.append((field, value))
                if d.nextBlock(0) { throw d.err("malformed \(name) matcher: blocks are not supported") }
            }
            return .object(members)
        case "query":
            var fields = OrderedFields()
            while d.next() {
                for q in d.remainingArgs() where !q.isEmpty {
                    guard let eq = q.firstIndex(of: "=") else {
                        throw d.err("malformed query matcher token: \(d.val); must be in param=val format")
                    }
                    fields.add(String(q[..<eq]), String(q[q.index(after: eq)...]))
                }
                if d.nextBlock(0) { throw d.err("malformed query matcher: blocks are not supported") }
            }
            return fields.json
        case "protocol":
            var proto = ""
            while d.next() {
                guard d.nextArg() else { throw d.err("expected exactly one protocol") }
                proto = d.val
            }
            return .string(proto)
        case "remote_ip", "client_ip":
            var ranges: [String] = []
            var forwarded = false
            while d.next() {
                while d.nextArg() {
                    if d.val == "forwarded" && name == "remote_ip" {
                        if !ranges.isEmpty { throw d.err("if used, 'forwarded' must be first argument") }
                        forwarded = true
                    } else if d.val == "private_ranges" {
                        ranges += CIDR.privateRanges
                    } else {
                        ranges.append(d.val)
                    }
                }
                if d.nextBlock(0) { throw d.err("malformed \(name) matcher: blocks are not supported") }
            }
            return .object([("ranges", ranges.isEmpty ? nil : .strings(ranges)), ("forwarded", forwarded ? .bool(true) : nil)])
        case "not":
            var sets: [JSONValue] = []
            while d.next() {
                var set: [(String, JSONValue)] = []
                for (matcher, tokens) in try MatcherDefinitions.collectMatcherTokens(&d) {
                    set.append((matcher, try parse(matcher, Dispenser(tokens))))
                }
                sets.append(JSONValue.object(set).canonical)
            }
            return .array(sets)
        case "expression":
            var expr = ""
            while d.next() {
                switch d.countRemainingArgs() {
                case 0: expr = d.val
                case 1: expr = try d.arg()
                default:
                    var raw: [String] = []
                    while d.nextArg() { raw.append(d.valRaw) }
                    expr = raw.joined(separator: " ")
                }
            }
            return .string(expr)
        case "file":
            var root: String?, tryFiles: [String] = [], policy: String?, split: [String]?
            while d.next() {
                tryFiles += d.remainingArgs()
                while d.nextBlock(0) {
                    switch d.val {
                    case "root": root = try d.arg()
                    case "try_files":
                        tryFiles += d.remainingArgs()
                        if tryFiles.isEmpty { throw d.argErr() }
                    case "try_policy": policy = try d.arg()
                    case "split_path":
                        split = d.remainingArgs()
                        if split!.isEmpty { throw d.argErr() }
                    default: throw d.err("unrecognized subdirective: \(d.val)")
                    }
                }
            }
            return .object([("root", root.map(JSONValue.string)), ("try_files", tryFiles.isEmpty ? nil : .strings(tryFiles)),
                            ("try_policy", policy.map(JSONValue.string)), ("split_path", split.map(JSONValue.strings))])
        case "vars":
            var fields = OrderedFields()
            while d.next() {
                guard d.nextArg() else { throw d.err("malformed vars matcher: expected field name") }
                let field = d.val
                let values = d.remainingArgs()
                if values.isEmpty { throw d.err("malformed vars matcher: expected at least one value to match against") }
                for v in values { fields.add(field, v) }
                if d.nextBlock(0) { throw d.err("malformed vars matcher: blocks are not supported") }
            }
            return fields.json
        default:
            throw CaddyfileError("getting matcher module '\(name)': module not registered: http.matchers.\(name)")
        }
    }

}

/// Field → values, in first-seen order (a `null` field matches absence).
struct OrderedFields {
    private var members: [(String, JSONValue)] = []

    mutating func add(_ field: String, _ value: String) {
        if let i = members.firstIndex(where: { $0.0 == field }), case .array(let a) = members[i].1 {
            members[i].1 = .array(a + [.string(value)])
        } else {
            members.removeAll { $0.0 == field }
            members.append((field, .strings([value])))
        }
    }

    mutating func setNull(_ field: String) {
        members.removeAll { $0.0 == field }
        members.append((field, .null))
    }

    var isEmpty: Bool { members.isEmpty }
    var json: JSONValue { .object(members) }
}
