import QuantumCore

/// `respond` and `error`: a status and/or body (or message), as Caddy parses them.
enum StaticResponseSyntax {
    /// Caddy's WeakString: a number when it is one, else a string (placeholders).
    static func weakString(_ s: String) -> JSONValue {
        if let n = Int(s) { return .int(n) }
        return .string(s)
    }

    private static func isStatus(_ s: String) -> Bool { s.count == 3 && (Int(s) ?? 0) > 0 }

    /// `respond [STATUS|BODY [STATUS]] { body TEXT; close }`.
    static func respond(_ d: inout Dispenser) throws -> JSONValue {
        var close = false
        let (status, body) = try statusAndText(&d, textKey: "body", requireArgument: true) { d in
            guard d.val == "close" else { return false }
            if close { throw d.err("close already specified") }
            close = true
            return true
        }
        return .object([("handler", .string("static_response")), ("status_code", status.map(weakString)),
                        ("body", body.map(JSONValue.string)), ("close", close ? .bool(true) : nil)])
    }

    /// `error [MESSAGE|STATUS [STATUS]] { message TEXT }`.
    static func error(_ d: inout Dispenser) throws -> JSONValue {
        let (status, message) = try statusAndText(&d, textKey: "message", requireArgument: true) { _ in false }
        return .object([("handler", .string("error")), ("error", message.map(JSONValue.string)), ("status_code", status.map(weakString))])
    }

    /// The shared syntax: one argument is a status when it looks like one (three digits), else
    /// the text; two are text then status; the block may give the text (`textKey`) or, through
    /// `other`, more subdirectives.
    private static func statusAndText(_ d: inout Dispenser, textKey: String, requireArgument: Bool = false,
                                      other: (inout Dispenser) throws -> Bool) throws -> (status: String?, text: String?) {
        var status: String?, text: String?
        while d.next() {
            let args = d.remainingArgs()
            switch args.count {
            case 0 where !requireArgument: break
            case 1: if isStatus(args[0]) { status = args[0] } else { text = args[0] }
            case 2: text = args[0]; status = args[1]
            default: throw d.argErr()
            }
            while d.nextBlock(0) {
                if d.val == textKey {
                    if let text, !text.isEmpty { throw d.err("\(textKey) already specified") }
                    text = try d.arg()
                    if d.nextArg() { throw d.argErr() }
                } else if try !other(&d) {
                    throw d.err("unrecognized subdirective '\(d.val)'")
                }
            }
        }
        return (status, text.flatMap { $0.isEmpty ? nil : $0 })
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
