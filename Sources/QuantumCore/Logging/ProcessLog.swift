/// Entries about the process itself, as Caddy writes them — "serving initial configuration",
/// "admin endpoint started", "server running", "shutdown complete" — to the logs that take their
/// logger (Caddy's default: JSON on standard error). Written at once, not batched: they are rare
/// and come from no loop.
package enum ProcessLog {
    /// A field's value.
    package enum Value: Sendable {
        case string(String)
        case int(Int)
        case bool(Bool)
        case strings([String])
        /// Header fields, as Go logs `http.Header`.
        case fields(HTTPFields)
    }

    /// Caddy's default log, for entries before a config's own logs exist.
    package static let standard: Logs = (try? Logs(LoggingConfig())) ?? { preconditionFailure("standard error cannot be a log") }()

    package static func write(_ logs: Logs?, _ level: LogLevel, logger: String = "", _ message: String,
                              _ fields: KeyValuePairs<String, Value> = [:]) {
        let wall = SystemClock.wallNanos()
        for output in (logs ?? standard).outputs(for: logger) where output.admits(level, message) {
            var line = LogLine(output.encoder, level: level, logger: logger, message: message, wallNanos: wall)
            for (name, value) in fields {
                line.key(named: name)
                switch value {
                case .string(let text): line.appendQuoted(text)
                case .int(let n): line.appendInt(n)
                case .bool(let b): b ? line.append("true") : line.append("false")
                case .strings(let list):
                    line.append("[")
                    for (i, text) in list.enumerated() {
                        if i > 0 { line.append(",") }
                        line.appendQuoted(text)
                    }
                    line.append("]")
                case .fields(let fields): line.headerObject(fields)
                }
            }
            let entry = line.end()
            entry.withBytes { output.sink.write($0) }
        }
    }
}
