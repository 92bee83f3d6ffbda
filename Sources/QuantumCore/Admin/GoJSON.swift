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

    /// A Go-escaped JSON string.
    static func quote(_ s: String) -> String {
        var bytes: [UInt8] = [34]
        appendEscaped(s, to: &bytes)
        bytes.append(34)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` escaped as Go's encoder does (`"`, `\\`, control bytes, and `<`, `>`, `&`,
    /// U+2028 and U+2029, safe inside HTML), without quotes. Runs of plain bytes are copied at once:
    /// log entries go through here.
    static func appendEscaped(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { escape($0, to: &bytes) }
    }

    private static func escape(_ input: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var i = 0
        var run = 0  // start of the bytes copied as they are
        let n = input.count
        while i < n {
            let b = input[i]
            // Printable ASCII other than `"`, `\\`, `<`, `>`, `&` (and any byte of a multi-byte
            // character but U+2028/U+2029's lead) goes out in one copy with its neighbours.
            if b >= 0x20 && b != 34 && b != 92 && b != 60 && b != 62 && b != 38 && b != 0xE2 { i += 1; continue }
            if run < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[run..<i])) }
            switch b {
            case 34: appendLiteral("\\\"", to: &bytes)
            case 92: appendLiteral("\\\\", to: &bytes)
            case 10: appendLiteral("\\n", to: &bytes)
            case 13: appendLiteral("\\r", to: &bytes)
            case 9: appendLiteral("\\t", to: &bytes)
            case 60: appendLiteral("\\u003c", to: &bytes)
            case 62: appendLiteral("\\u003e", to: &bytes)
            case 38: appendLiteral("\\u0026", to: &bytes)
            case 0xE2 where i + 2 < n && input[i + 1] == 0x80 && (input[i + 2] == 0xA8 || input[i + 2] == 0xA9):
                appendLiteral(input[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", to: &bytes)
                i += 2
            case 0xE2:
                bytes.append(b)
            default:
                appendLiteral("\\u00", to: &bytes)
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 15)])
            }
            i += 1
            run = i
        }
        if run < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[run..<n])) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendLiteral(_ literal: StaticString, to bytes: inout [UInt8]) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
}
