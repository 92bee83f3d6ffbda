import Glibc

/// One log entry as bytes, the way zap writes Caddy's: `json` — the whole entry one object
/// (`level`, `ts`, `logger`, `msg`, then the fields); `console` — time, level, logger and message
/// separated by tabs, then the fields as JSON with spaces. Fields are added in order, straight
/// into a byte buffer: an access entry costs no string building.
struct LogLine: ~Copyable {
    private var bytes: LogBuffer
    private let console: Bool
    private var first = true
    /// The `filter` encoder's filters, and the path of the object being written (kept only with filters).
    private let filters: LogFilters?
    private var path = ""

    /// Starts an entry after what `buffer` holds (a loop's batch for its sink); fields follow
    /// (`field`, `object`, `headers`), then `end` gives the buffer back.
    init(_ encoder: LogEncoderConfig, level: LogLevel, logger: String, message: String, wallNanos: UInt64,
         buffer: consuming LogBuffer = LogBuffer()) {
        console = encoder.format == .console
        filters = encoder.filters
        bytes = buffer
        if console {
            bytes.append(utf8: Self.consoleTime(wallNanos))
            bytes.append(9)
            bytes.append(utf8: Self.coloredLevel(level))
            bytes.append(9)
            if !logger.isEmpty {
                bytes.append(utf8: logger)
                bytes.append(9)
            }
            bytes.append(utf8: message)
            append("\t{")
        } else {
            append("{\"level\":\"")
            bytes.append(utf8: level.name)
            append("\",\"ts\":")
            bytes.append(seconds: wallNanos)
            if !logger.isEmpty {  // the root logger has no name, and zap writes none
                append(",\"logger\":")
                appendQuoted(logger)
            }
            append(",\"msg\":")
            appendQuoted(message)
            first = false
        }
    }

    @inline(__always)
    mutating func append(_ literal: StaticString) { bytes.append(literal) }

    /// `"key":` (or `"key": ` on the console), after a separator when needed.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(34)
        append(name)
        console ? append("\": ") : append("\":")
    }

    /// The comma before every field of an object but its first.
    private mutating func separate() {
        if !first { console ? append(", ") : bytes.append(44) }
        first = false
    }

    /// `"name":` for a name known only at run time (process entries' fields).
    mutating func key(named name: String) {
        separate()
        appendQuoted(name)
        console ? append(": ") : bytes.append(58)
    }

    mutating func field(_ name: StaticString, string value: String) {
        if filters != nil, let filter = filter(name.description) {
            guard let filtered = filter.apply(value) else { return }
            key(name)
            appendQuoted(filtered)
            return
        }
        key(name)
        appendQuoted(value)
    }

    mutating func field(_ name: StaticString, int value: Int) { if !replaced(name) { key(name); bytes.append(decimal: value) } }
    /// An integer written as a JSON string (`"remote_port":"443"`).
    mutating func field(_ name: StaticString, quotedInt value: Int) {
        if filters != nil { field(name, string: String(value)); return }
        key(name)
        bytes.append(34)
        bytes.append(decimal: value)
        bytes.append(34)
    }
    mutating func field(_ name: StaticString, seconds nanos: UInt64) { if !replaced(name) { key(name); bytes.append(seconds: nanos) } }
    mutating func field(_ name: StaticString, bool value: Bool) { if !replaced(name) { key(name); value ? append("true") : append("false") } }

    /// A nested object whose fields `body` adds.
    mutating func object(_ name: StaticString, _ body: (inout LogLine) -> Void) {
        if replaced(name) { return }
        key(name)
        bytes.append(123)
        first = true
        let outer = path
        if filters != nil { path = path.isEmpty ? name.description : path + ">" + name.description }
        body(&self)
        path = outer
        first = false
        bytes.append(125)
    }

    // MARK: - Filters

    /// The filter for field `name` of the object being written (nil without the filter encoder).
    private func filter(_ name: String) -> LogFieldFilter? {
        guard let filters else { return nil }
        return filters.byPath[path.isEmpty ? name : path + ">" + name]
    }

    /// For a field that is not a string: true when a filter dropped it or wrote it (as a
    /// string, `replace`); other filters leave such values alone, as Caddy's do.
    @inline(__always)
    private mutating func replaced(_ name: StaticString) -> Bool {
        guard filters != nil, let filter = filter(name.description) else { return false }
        switch filter {
        case .delete: return true
        case .replace(let value):
            key(name)
            appendQuoted(value)
            return true
        default: return false
        }
    }

    /// Header fields as Go logs `http.Header`: canonical names, each once with all its values;
    /// `hidden` ones (lowercase names) as `[]`, `skipped` ones left out; `server` first when given
    /// (the field the connection adds itself).
    mutating func headers(_ name: StaticString, _ fields: HTTPFields, hidden: [String], skipped: String? = nil, server: String? = nil) {
        if filters != nil {
            filteredHeaders(name, fields, hidden: hidden, skipped: skipped, server: server)
            return
        }
        object(name) { line in line.headerPairs(fields, hidden: hidden, skipped: skipped, server: server) }
    }

    /// A request's header fields as an object value (after a `key`): nothing hidden, and no
    /// `Host` (Go keeps it apart from the header map).
    mutating func headerObject(_ fields: HTTPFields) {
        bytes.append(123)
        first = true
        headerPairs(fields, hidden: [], skipped: "host", server: nil)
        first = false
        bytes.append(125)
    }

    private mutating func headerPairs(_ fields: HTTPFields, hidden: [String], skipped: String?, server: String?) {
        if let server {
            first = false
            console ? append("\"Server\": [") : append("\"Server\":[")
            appendQuoted(server)
            bytes.append(93)
        }
        let all = fields.fields
        for i in all.indices {
            let field = all[i]
            if let skipped, field.name.equalsIgnoringASCIICase(skipped) { continue }
            // Repeats were written with their first occurrence.
            if i > 0, all[..<i].contains(where: { $0.name.equalsIgnoringASCIICase(field.name) }) { continue }
            separate()
            bytes.append(34)
            bytes.appendCanonical(field.name)
            console ? append("\": [") : append("\":[")
            if !hidden.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
                appendQuoted(field.value)
                for later in all[(i + 1)...] where later.name.equalsIgnoringASCIICase(field.name) {
                    console ? append(", ") : bytes.append(44)
                    appendQuoted(later.value)
                }
            }
            bytes.append(93)
        }
    }

    /// `headers` through the filter encoder: each header's values, by canonical name, filtered
    /// as one array field (`request>headers>Cookie`).
    private mutating func filteredHeaders(_ name: StaticString, _ fields: HTTPFields, hidden: [String], skipped: String?, server: String?) {
        var names: [String] = []
        var values: [String: [String]] = [:]
        if let server {
            names.append("Server")
            values["Server"] = [server]
        }
        for field in fields.fields {
            if let skipped, field.name.equalsIgnoringASCIICase(skipped) { continue }
            let canonical = Self.canonical(field.name)
            if values[canonical] == nil { names.append(canonical); values[canonical] = [] }
            if !hidden.contains(where: { field.name.equalsIgnoringASCIICase($0) }) { values[canonical]!.append(field.value) }
        }
        object(name) { line in
            for header in names {
                var list = values[header]!, asString = false
                if let filter = line.filter(header) {
                    guard let filtered = filter.apply(values: list) else { continue }
                    (list, asString) = filtered
                }
                line.key(named: header)
                if asString {
                    line.appendQuoted(list.first ?? "")
                    continue
                }
                line.bytes.append(91)
                for (i, value) in list.enumerated() {
                    if i > 0 { line.console ? line.append(", ") : line.bytes.append(44) }
                    line.appendQuoted(value)
                }
                line.bytes.append(93)
            }
        }
    }

    /// Go's canonical header name as a string (`x-custom` → `X-Custom`).
    static func canonical(_ name: String) -> String {
        var bytes = LogBuffer(capacity: name.utf8.count)
        bytes.appendCanonical(name)
        return bytes.string
    }

    /// The buffer, ending with this entry and its line end.
    consuming func end() -> LogBuffer {
        append("}\n")
        return bytes
    }

    // MARK: - Values

    /// A Go-escaped JSON string.
    mutating func appendQuoted(_ text: String) { bytes.appendQuoted(text) }

    mutating func appendInt(_ value: Int) { bytes.append(decimal: value) }

    // MARK: - Console

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
