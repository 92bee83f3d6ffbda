import Glibc

/// One log entry as bytes, the way zap writes Caddy's: `json` — the whole entry one object
/// (`level`, `ts`, `logger`, `msg`, then the fields); `console` — time, level, logger and message
/// separated by tabs, then the fields as JSON with spaces. Fields are added in order.
struct LogLine {
    private(set) var bytes: [UInt8] = []
    private let console: Bool
    private var first = true

    /// Starts an entry; `fields` follow with `field`, then `end`.
    init(_ encoder: LogEncoderConfig, level: LogLevel, logger: String, message: String, wallNanos: UInt64) {
        console = encoder == .console
        bytes.reserveCapacity(768)
        if console {
            append(Self.consoleTime(wallNanos))
            append("\t" + Self.coloredLevel(level) + "\t" + logger + "\t" + message + "\t{")
        } else {
            append("{\"level\":\"" + level.name + "\",\"ts\":" + Self.seconds(wallNanos) + ",\"logger\":")
            append(GoJSON.quote(logger))
            append(",\"msg\":")
            append(GoJSON.quote(message))
            first = false
        }
    }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// `"key":` (or `"key": ` on the console), after a separator when needed.
    mutating func key(_ name: String) {
        if !first { append(console ? ", " : ",") }
        first = false
        append(GoJSON.quote(name))
        append(console ? ": " : ":")
    }

    mutating func field(_ name: String, string value: String) { key(name); append(GoJSON.quote(value)) }
    mutating func field(_ name: String, int value: Int) { key(name); append(String(value)) }
    mutating func field(_ name: String, seconds nanos: UInt64) { key(name); append(Self.seconds(nanos)) }
    mutating func field(_ name: String, bool value: Bool) { key(name); append(value ? "true" : "false") }

    /// A nested object whose fields `body` adds.
    mutating func object(_ name: String, _ body: (inout LogLine) -> Void) {
        key(name)
        append("{")
        first = true
        body(&self)
        first = false
        append("}")
    }

    /// Header fields as Go logs `http.Header`: canonical names, each with all its values.
    mutating func headers(_ name: String, _ fields: HTTPFields, hiding hidden: [String], skipping skipped: String? = nil) {
        object(name) { line in
            var order: [String] = []
            var values: [String: [String]] = [:]
            for field in fields {
                let canonical = Self.canonical(field.name)
                if let skipped, canonical == skipped { continue }
                if values[canonical] == nil { order.append(canonical) }
                values[canonical, default: []].append(field.value)
            }
            for key in order {
                line.key(key)
                if hidden.contains(key) { line.append("[]"); continue }
                line.append("[")
                for (i, value) in values[key]!.enumerated() {
                    if i > 0 { line.append(line.console ? ", " : ",") }
                    line.append(GoJSON.quote(value))
                }
                line.append("]")
            }
        }
    }

    /// The entry with its line end.
    mutating func end() -> [UInt8] {
        append("}\n")
        return bytes
    }

    // MARK: - Formats

    /// Go's `CanonicalMIMEHeaderKey`: `x-custom` → `X-Custom`.
    static func canonical(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        var upper = true
        for scalar in name.unicodeScalars {
            guard scalar.isASCII else { return name }
            var c = Character(scalar)
            if upper, c.isLowercase { c = Character(c.uppercased()) } else if !upper, c.isUppercase { c = Character(c.lowercased()) }
            out.append(c)
            upper = c == "-"
        }
        return out
    }

    /// Seconds with Go's shortest float formatting, never in exponent form (`0.000031298`).
    static func seconds(_ nanos: UInt64) -> String {
        fixed(Double(nanos) / 1e9)
    }

    static func fixed(_ value: Double) -> String {
        let text = value.description
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }), let exponent = Int(text[text.index(after: e)...]) else {
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        let mantissa = text[..<e]
        let negative = mantissa.hasPrefix("-")
        let digits = mantissa.filter(\.isNumber)
        let point = (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count) - (negative ? 1 : 0)
        let position = point + exponent
        var result: String
        if position <= 0 {
            result = "0." + String(repeating: "0", count: -position) + digits
        } else if position >= digits.count {
            result = digits + String(repeating: "0", count: position - digits.count)
        } else {
            result = String(digits.prefix(position)) + "." + String(digits.dropFirst(position))
        }
        while result.contains("."), result.hasSuffix("0") { result.removeLast() }
        if result.hasSuffix(".") { result.removeLast() }
        return (negative ? "-" : "") + result
    }

    /// zap's console time: `2026/12/07 14:43:25.339`, local time.
    static func consoleTime(_ nanos: UInt64) -> String {
        var seconds = time_t(nanos / 1_000_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func pad(_ n: Int32, _ width: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, width - s.count)) + s }
        let millis = Int32((nanos / 1_000_000) % 1000)
        return "\(pad(parts.tm_year + 1900, 4))/\(pad(parts.tm_mon + 1, 2))/\(pad(parts.tm_mday, 2)) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))"
    }

    /// zap's colored capital level names.
    static func coloredLevel(_ level: LogLevel) -> String {
        let color: Int
        switch level {
        case .debug: color = 35
        case .info: color = 34
        case .warn: color = 33
        case .error, .panic, .fatal: color = 31
        }
        return "\u{1B}[\(color)m\(level.name.uppercased())\u{1B}[0m"
    }
}
