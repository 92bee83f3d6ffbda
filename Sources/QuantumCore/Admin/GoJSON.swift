/// JSON written as Caddy's admin API writes it (Go's `encoding/json` on decoded maps): object
/// keys sorted, no spaces, `<`, `>` and `&` escaped, numbers in Go's float64 form, a newline at
/// the end. Reading a config back, comparing two configs and their ETags all go through it, so a
/// config that differs only in key order or spacing is the same config, as in Caddy.
package enum GoJSON {
    public static func encode(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        out += "\n"
        return out
    }

    static func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += number(n)
        case .string(let s): out += quote(s)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let members):
            // Go decodes into a map: the last of repeated keys wins, and keys come out sorted.
            var unique: [String: JSONValue] = [:]
            for (key, member) in members { unique[key] = member }
            out += "{"
            for (i, key) in unique.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
                if i > 0 { out += "," }
                out += quote(key)
                out += ":"
                write(unique[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// Go reads every JSON number as a float64 and writes it back in its shortest form.
    static func number(_ text: String) -> String {
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), text.count < 16 { return text }
        guard let d = Double(text) else { return text }
        if d == d.rounded(), abs(d) < 1e21 {
            if abs(d) < 9.007199254740992e15 { return String(Int64(d)) }
        }
        return d.description
    }

    /// A Go-escaped JSON string (`LogBuffer.appendEscaped` says how Go escapes).
    static func quote(_ s: String) -> String {
        var bytes = LogBuffer(capacity: s.utf8.count + 2)
        bytes.appendQuoted(s)
        return bytes.string
    }
}
