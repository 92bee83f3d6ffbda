/// Caddy's `logging`: named logs, each a writer, an encoder, a level and the loggers it takes.
package struct LoggingConfig: Decodable, Sendable {
    public var logs: [String: LogConfig] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case logs, sink }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        logs = try c.decodeIfPresent([String: LogConfig].self, forKey: .logs) ?? [:]
        if c.contains(.sink) {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.sink], "the standard library's log sink is not supported; use logs")
        }
    }
}

/// One of `logging.logs`.
package struct LogConfig: Decodable, Sendable {
    public var writer = LogWriterConfig.stderr
    public var encoder = LogEncoderConfig.json
    public var level = LogLevel.info
    /// Logger names (and their children) this log takes; empty: all.
    public var include: [String] = []
    /// Logger names (and their children) it leaves out.
    public var exclude: [String] = []

    enum CodingKeys: String, CodingKey, CaseIterable { case writer, encoder, level, include, exclude, sampling }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        writer = try c.decodeIfPresent(LogWriterConfig.self, forKey: .writer) ?? .stderr
        encoder = try c.decodeIfPresent(LogEncoderConfig.self, forKey: .encoder) ?? .json
        if let text = try c.decodeIfPresent(String.self, forKey: .level) {
            guard let level = LogLevel(caddyName: text) else {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.level],
                                  "unknown level \"\(text)\"; known: DEBUG, INFO, WARN, ERROR, PANIC, FATAL")
            }
            self.level = level
        }
        include = try c.decodeIfPresent([String].self, forKey: .include) ?? []
        exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? []
        if c.contains(.sampling) {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.sampling], "log sampling is not supported yet")
        }
    }
}

/// Severity, in zap's order.
package enum LogLevel: Int, Sendable, Comparable {
    case debug, info, warn, error, panic, fatal

    init?(caddyName: String) {
        switch caddyName.uppercased() {
        case "DEBUG": self = .debug
        case "", "INFO": self = .info
        case "WARN", "WARNING": self = .warn
        case "ERROR": self = .error
        case "DPANIC", "PANIC": self = .panic
        case "FATAL": self = .fatal
        default: return nil
        }
    }

    /// As entries spell it.
    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        case .panic: "panic"
        case .fatal: "fatal"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Where a log goes: Caddy's `stdout`, `stderr`, `discard` and `file` writers.
package enum LogWriterConfig: Decodable, Sendable, Equatable {
    case stdout, stderr, discard
    case file(FileWriterConfig)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case output, filename, roll, rollSizeMB = "roll_size_mb", rollKeep = "roll_keep", rollKeepDays = "roll_keep_days"
        case rollLocalTime = "roll_local_time", rollGzip = "roll_gzip"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let output = try c.decode(String.self, forKey: .output)
        let fileOnly: [CodingKeys] = [.filename, .roll, .rollSizeMB, .rollKeep, .rollKeepDays, .rollLocalTime, .rollGzip]
        if output != "file", let stray = fileOnly.first(where: { c.contains($0) }) {
            throw ConfigError(codingPath: decoder.codingPath + [stray], "\(stray.stringValue) belongs to the file writer, not \(output)")
        }
        switch output {
        case "stdout": self = .stdout
        case "stderr": self = .stderr
        case "discard": self = .discard
        case "file":
            var file = FileWriterConfig(filename: try c.decode(String.self, forKey: .filename))
            if file.filename.isEmpty { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.filename], "filename must not be empty") }
            file.roll = try c.decodeIfPresent(Bool.self, forKey: .roll) ?? true
            if let mb = try c.decodeIfPresent(Int.self, forKey: .rollSizeMB) {
                guard mb > 0 else { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.rollSizeMB], "roll_size_mb must be positive") }
                file.rollSizeBytes = mb * 1024 * 1024
            }
            if let keep = try c.decodeIfPresent(Int.self, forKey: .rollKeep) {
                guard keep >= 0 else { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.rollKeep], "roll_keep cannot be negative") }
                file.rollKeep = keep
            }
            if let days = try c.decodeIfPresent(Int.self, forKey: .rollKeepDays) {
                guard days >= 0 else { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.rollKeepDays], "roll_keep_days cannot be negative") }
                file.rollKeepDays = days
            }
            file.rollLocalTime = try c.decodeIfPresent(Bool.self, forKey: .rollLocalTime) ?? false
            if c.contains(.rollGzip) {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.rollGzip], "compressing rolled logs (roll_gzip) is not supported yet")
            }
            self = .file(file)
        default:
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.output],
                              "unknown log writer \"\(output)\"; known: stdout, stderr, discard, file")
        }
    }
}

/// The `file` writer: appends to `filename`, and by default (Caddy's) rolls it at 100 MiB,
/// keeping 10 rolled files for 90 days.
package struct FileWriterConfig: Sendable, Equatable {
    public var filename: String
    public var roll = true
    public var rollSizeBytes = 100 * 1024 * 1024
    public var rollKeep = 10
    public var rollKeepDays = 90
    public var rollLocalTime = false
}

/// How entries are written: Caddy's `json` (one object a line) or `console` (tab-separated
/// fields, then the rest as JSON).
package enum LogEncoderConfig: Decodable, Sendable, Equatable {
    case json, console

    enum CodingKeys: String, CodingKey, CaseIterable { case format }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .format) {
        case "json": self = .json
        case "console": self = .console
        case let other:
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.format],
                              "unknown log encoder \"\(other)\"; known: json, console" + (other == "filter" ? " (filter is not supported yet)" : ""))
        }
    }
}

/// A server's `logs`: turns on its access log and names its loggers.
package struct ServerLogsConfig: Decodable, Sendable {
    public var defaultLoggerName: String?
    /// Host → logger name (`http.log.access.<name>`).
    public var loggerNames: [String: String] = [:]
    public var skipHosts: [String] = []
    public var skipUnmappedHosts = false
    public var shouldLogCredentials = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case defaultLoggerName = "default_logger_name", loggerNames = "logger_names", skipHosts = "skip_hosts"
        case skipUnmappedHosts = "skip_unmapped_hosts", shouldLogCredentials = "should_log_credentials"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultLoggerName = try c.decodeIfPresent(String.self, forKey: .defaultLoggerName)
        loggerNames = try c.decodeIfPresent([String: String].self, forKey: .loggerNames) ?? [:]
        skipHosts = try c.decodeIfPresent([String].self, forKey: .skipHosts) ?? []
        skipUnmappedHosts = try c.decodeIfPresent(Bool.self, forKey: .skipUnmappedHosts) ?? false
        shouldLogCredentials = try c.decodeIfPresent(Bool.self, forKey: .shouldLogCredentials) ?? false
    }
}
