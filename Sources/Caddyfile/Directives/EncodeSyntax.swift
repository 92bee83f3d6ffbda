import QuantumCore

/// `encode [gzip|zstd...] { minimum_length N; prefer ...; match {...}; gzip LEVEL }`.
enum EncodeSyntax {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var encodings: [(String, JSONValue)] = []
        var prefer: [String] = []
        var minLength: Int?, match: JSONValue?
        func add(_ name: String, _ config: JSONValue) {
            encodings.removeAll { $0.0 == name }
            encodings.append((name, config))
        }
        while d.next() {
            for arg in d.remainingArgs() {
                guard ["gzip", "zstd"].contains(arg) else {
                    throw d.err("finding encoder module '\(arg)': module not registered: http.encoders.\(arg)")
                }
                add(arg, .object([]))
                prefer.append(arg)
            }
            while d.nextBlock(0) {
                switch d.val {
                case "minimum_length":
                    let v = try d.arg()
                    guard let n = Int(v) else { throw d.err("strconv.Atoi: parsing \"\(v)\": invalid syntax") }
                    minLength = n
                case "prefer":
                    let list = d.remainingArgs()
                    if list.isEmpty { throw d.argErr() }
                    prefer = list
                case "match":
                    var sub = Dispenser(d.nextSegment())
                    sub.next()
                    match = try ResponseMatcherSyntax.parse(&sub)
                case "gzip":
                    var seg = Dispenser(d.nextSegment())
                    var level: Int?
                    while seg.next() {
                        guard seg.nextArg() else { continue }
                        guard let n = Int(seg.val) else { throw seg.err("strconv.Atoi: parsing \"\(seg.val)\": invalid syntax") }
                        level = n
                    }
                    add("gzip", .object([("level", level.map(JSONValue.int))]))
                    prefer.append("gzip")
                case "zstd":
                    _ = d.nextSegment()  // Caddy 2.6.2's zstd has no options; its block is read and ignored
                    add("zstd", .object([]))
                    prefer.append("zstd")
                default:
                    throw d.err("getting module named 'http.encoders.\(d.val)': module not registered: http.encoders.\(d.val)")
                }
            }
        }
        return .object([("handler", .string("encode")), ("encodings", encodings.isEmpty ? nil : .object(encodings.sorted { $0.0 < $1.0 })),
                        ("prefer", prefer.isEmpty ? nil : .strings(prefer)), ("minimum_length", minLength.map(JSONValue.int)), ("match", match)])
    }
}

/// A named response matcher: `@name status 2xx` or `@name { status ...; header Field [value] }`
/// (also `match { ... }` in `encode`), with the dispenser on its name.
enum ResponseMatcherSyntax {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var statuses: [JSONValue]?
        var headers: JSONValue?
        let level = d.nesting
        while d.nextArg() || d.nextBlock(level) {
            switch d.val {
            case "status":
                let args = d.remainingArgs()
                if args.isEmpty { throw d.argErr() }
                for a in args {
                    let code = a.count == 3 && a.hasSuffix("xx") ? String(a.prefix(1)) : a
                    guard let n = Int(code) else { throw d.err("bad status value '\(a)': strconv.Atoi: parsing \"\(code)\": invalid syntax") }
                    statuses = (statuses ?? []) + [.int(n)]
                }
            case "header":
                let parsed = try MatcherModules.parse("header", Dispenser(d.nextSegment()))
                var merged = headers ?? .object([])
                for (k, v) in parsed.objectMembers {
                    if case .array(let new) = v, case .array(let old)? = merged[k] { merged.set(k, .array(old + new)) } else { merged.set(k, v) }
                }
                headers = merged
            default:
                throw d.err("unrecognized response matcher \(d.val)")
            }
        }
        return .object([("status_code", statuses.map(JSONValue.array)), ("headers", headers)])
    }
}
