import QuantumCore

/// `respond` and `error`: a status and/or body (or message), as Caddy parses them.
enum StaticResponseSyntax {
    /// Caddy's WeakString: a number when it is one, else a string (placeholders).
    static func weakString(_ s: String) -> JSONValue {
        if let n = Int(s) { return .int(n) }
        return .string(s)
    }

    private static func isStatus(_ s: String) -> Bool { s.count == 3 && (Int(s) ?? 0) > 0 }

    static func respond(_ d: inout Dispenser) throws -> JSONValue {
        var status: String?, body: String?, close = false
        while d.next() {
            let args = d.remainingArgs()
            switch args.count {
            case 0: break
            case 1: if isStatus(args[0]) { status = args[0] } else { body = args[0] }
            case 2: body = args[0]; status = args[1]
            default: throw d.argErr()
            }
            while d.nextBlock(0) {
                switch d.val {
                case "body":
                    if body != nil && body != "" { throw d.err("body already specified") }
                    body = try d.arg()
                    if d.nextArg() { throw d.argErr() }
                case "close":
                    if close { throw d.err("close already specified") }
                    close = true
                default: throw d.err("unrecognized subdirective '\(d.val)'")
                }
            }
        }
        return .object([("handler", .string("static_response")), ("status_code", status.map(weakString)),
                        ("body", body.flatMap { $0.isEmpty ? nil : .string($0) }), ("close", close ? .bool(true) : nil)])
    }

    static func error(_ d: inout Dispenser) throws -> JSONValue {
        var status: String?, message: String?
        while d.next() {
            let args = d.remainingArgs()
            switch args.count {
            case 1: if isStatus(args[0]) { status = args[0] } else { message = args[0] }
            case 2: message = args[0]; status = args[1]
            default: throw d.argErr()
            }
            while d.nextBlock(0) {
                switch d.val {
                case "message":
                    if message != nil && message != "" { throw d.err("message already specified") }
                    message = try d.arg()
                    if d.nextArg() { throw d.argErr() }
                default: throw d.err("unrecognized subdirective '\(d.val)'")
                }
            }
        }
        return .object([("handler", .string("error")), ("error", message.flatMap { $0.isEmpty ? nil : .string($0) }),
                        ("status_code", status.map(weakString))])
    }
}

/// `vars [NAME VALUE] { NAME VALUE ... }`: values typed as Caddy 2.6.2 types them.
enum VarsSyntax {
    static func parse(_ d: inout Dispenser) throws -> JSONValue {
        var vars: [(String, JSONValue)] = []
        func next(_ d: inout Dispenser, headerLine: Bool) throws {
            if headerLine && !d.nextArg() { return }
            let name = d.val
            guard d.nextArg() else { throw d.argErr() }
            let value = scalar(d.token)
            vars.removeAll { $0.0 == name }
            vars.append((name, value))
            if d.nextArg() { throw d.argErr() }
        }
        while d.next() {
            try next(&d, headerLine: true)
            let level = d.nesting
            while d.nextBlock(level) { try next(&d, headerLine: false) }
        }
        return JSONValue.object([("handler", .string("vars"))] + vars.sorted { $0.0 < $1.0 })
    }

    /// Caddy's `ScalarVal`: quoted text stays text; otherwise an integer, float or bool when it parses as one.
    static func scalar(_ token: Token) -> JSONValue {
        if token.wasQuoted { return .string(token.text) }
        let t = token.text
        if let n = Int(t) { return .number(String(n)) }
        if let f = Double(t), t.allSatisfy({ "0123456789.eE+-".contains($0) }) { return .number(String(f)) }
        switch t {
        case "1", "t", "T", "TRUE", "true", "True": return .bool(true)
        case "0", "f", "F", "FALSE", "false", "False": return .bool(false)
        default: return .string(t)
        }
    }
}
