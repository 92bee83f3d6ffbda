import QuantumCore

/// `header` and `request_header`: header operations (`+add`, `-delete`, `?default`, set, replace).
enum HeaderSyntax {
    static func header(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let matcher = try h.extractMatcherSet()
        var plain: JSONValue = .object([]), withRequire: JSONValue = .object([])
        // Caddy 2.6.2 reads every line of the segment this way: a line's first token is skipped,
        // the rest are field, value and replacement; a block holds one header per line.
        while h.d.next() {
        var hasArgs = false
        if h.d.nextArg() {
            hasArgs = true
            let field = h.d.val
            let value = h.d.nextArg() ? h.d.val : ""
            let replacement = h.d.nextArg() ? h.d.val : ""
            try applyOp(&plain, field: field, value: value, replacement: replacement, response: true)
        }
        while h.d.nextBlock(0) {
            var field = h.d.val
            if field == "defer" {
                plain.set("deferred", .bool(true))
                continue
            }
            if hasArgs { throw h.d.err("cannot specify headers in both arguments and block") }
            if field.hasSuffix(":") { field.removeLast() }
            let value = h.d.nextArg() ? h.d.val : ""
            let replacement = h.d.nextArg() ? h.d.val : ""
            if field.hasPrefix("?") {
                try applyOp(&withRequire, field: field, value: value, replacement: replacement, response: true)
            } else {
                try applyOp(&plain, field: field, value: value, replacement: replacement, response: true)
            }
        }
        }
        var values: [ConfigValue] = []
        for ops in [plain, withRequire] where !ops.objectMembers.isEmpty {
            values += h.newRoute(matcher, .object([("handler", .string("headers")), ("response", ordered(ops))]))
        }
        return values
    }

    static func requestHeader(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let matcher = try h.extractMatcherSet()
        h.d.next()
        var field = try h.d.arg()
        if field.hasSuffix(":") { field.removeLast() }
        let value = h.d.nextArg() ? h.d.val : ""
        var replacement = ""
        if h.d.nextArg() {
            replacement = h.d.val
            if h.d.nextArg() { throw h.d.argErr() }
        }
        var ops: JSONValue = .object([])
        try applyOp(&ops, field: field, value: value, replacement: replacement, response: nil)
        return h.newRoute(matcher, .object([("handler", .string("headers")), ("request", ordered(ops))]))
    }

    /// One header operation into `ops` (response ops may also get `require` and `deferred`).
    static func applyOp(_ ops: inout JSONValue, field: String, value: String, replacement: String, response: Bool?) throws {
        func addTo(_ key: String, _ name: String, _ v: String, append: Bool) {
            var map = ops[key] ?? .object([])
            let canonical = HTTPFields.canonicalName(name)
            let existing = append ? (map[canonical]?.arrayValues ?? []) : []
            map.set(canonical, .array(existing + [.string(v)]))
            ops.set(key, map)
        }
        if field.hasPrefix("+") {
            addTo("add", String(field.dropFirst()), value, append: true)
        } else if field.hasPrefix("-") {
            ops.set("delete", .array((ops["delete"]?.arrayValues ?? []) + [.string(String(field.dropFirst()))]))
            if response != nil { ops.set("deferred", .bool(true)) }
        } else if field.hasPrefix("?") {
            guard response != nil else {
                throw CaddyfileError("\(field): the default header modifier ('?') can only be used on response headers; for conditional manipulation of request headers, use matchers")
            }
            let name = String(field.dropFirst())
            var require = ops["require"] ?? .object([("headers", .object([]))])
            var headers = require["headers"] ?? .object([])
            headers.set(name, .null)
            require.set("headers", headers)
            ops.set("require", require)
            addTo("set", name, value, append: false)
        } else if !replacement.isEmpty {
            let name = String(field.drop { "+-?".contains($0) })
            var map = ops["replace"] ?? .object([])
            map.set(name, .array((map[name]?.arrayValues ?? []) + [.object([("search_regexp", .string(value)), ("replace", .string(replacement))])]))
            ops.set("replace", map)
        } else {
            addTo("set", field, value, append: false)
        }
    }

    private static func ordered(_ ops: JSONValue) -> JSONValue {
        let order = ["add", "set", "delete", "replace", "require", "deferred"]
        return .object(ops.objectMembers.sorted { (order.firstIndex(of: $0.0) ?? 9) < (order.firstIndex(of: $1.0) ?? 9) })
    }
}
