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
    public var sampling: LogSamplingConfig?

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
        sampling = try c.decodeIfPresent(LogSamplingConfig.self, forKey: .sampling)
    }
}

/// A log's `sampling` (Caddy's defaults: 1 s, the first 100, then every 100th).
package struct LogSamplingConfig: Decodable, Sendable {
    public var intervalNanos: UInt64 = 1_000_000_000
    public var first = 100
    public var thereafter = 100

    enum CodingKeys: String, CodingKey, CaseIterable { case interval, first, thereafter }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let interval = try c.decodeIfPresent(CaddyDuration.self, forKey: .interval), interval.nanoseconds > 0 {
            intervalNanos = UInt64(interval.nanoseconds)
        }
        for (key, path) in [(CodingKeys.first, \LogSamplingConfig.first), (.thereafter, \.thereafter)] {
            guard let n = try c.decodeIfPresent(Int.self, forKey: key) else { continue }
            guard n >= 0 else { throw ConfigError(codingPath: decoder.codingPath + [key], "\(key.stringValue) cannot be negative") }
            if n > 0 { self[keyPath: path] = n }  // 0 means the default, as in Caddy
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
            file.rollGzip = try c.decodeIfPresent(Bool.self, forKey: .rollGzip) ?? true
            self = .file(file)
        default:
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.output],
                              "unknown log writer \"\(output)\"; known: stdout, stderr, discard, file")
        }
    }
}

/// The `file` writer: appends to `filename`, and by default (Caddy's) rolls it at 100 MiB,
/// keeping 10 rolled files, gzipped, for 90 days.
package struct FileWriterConfig: Sendable, Equatable {
    public var filename: String
    public var roll = true
    public var rollSizeBytes = 100 * 1024 * 1024
    public var rollKeep = 10
    public var rollKeepDays = 90
    public var rollLocalTime = false
    public var rollGzip = true
}

/// How entries are written: Caddy's `json` (one object a line) or `console` (tab-separated
/// fields, then the rest as JSON), or `filter` — one of those (`wrap`, JSON by default) with
/// fields changed or dropped by path first.
package struct LogEncoderConfig: Decodable, Sendable {
    package enum Format: Sendable { case json, console }

    public var format: Format
    /// The `filter` encoder's filters (nil: none).
    public var filters: LogFilters?

    public static let json = LogEncoderConfig(format: .json)
    public static let console = LogEncoderConfig(format: .console)

    init(format: Format, filters: LogFilters? = nil) {
        self.format = format
        self.filters = filters
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case format, wrap, fields }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .format)
        if name != "filter", let stray = [CodingKeys.wrap, .fields].first(where: { c.contains($0) }) {
            throw ConfigError(codingPath: decoder.codingPath + [stray], "\(stray.stringValue) belongs to the filter encoder, not \(name)")
        }
        switch name {
        case "json": self.init(format: .json)
        case "console": self.init(format: .console)
        case "filter":
            let wrapped = try c.decodeIfPresent(LogEncoderConfig.self, forKey: .wrap) ?? .json
            if wrapped.filters != nil {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.wrap], "a filter encoder cannot wrap another filter encoder")
            }
            let fields = try c.decodeIfPresent([String: LogFieldFilterConfig].self, forKey: .fields) ?? [:]
            self.init(format: wrapped.format, filters: LogFilters(fields.mapValues(\.filter)))
        case let other:
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.format],
                              "unknown log encoder \"\(other)\"; known: json, console, filter")
        }
    }
}

/// One of a filter encoder's `fields`: `{"filter": "NAME", ...its options}`.
struct LogFieldFilterConfig: Decodable {
    let filter: LogFieldFilter

    enum CodingKeys: String, CodingKey, CaseIterable {
        case filter, value, ipv4CIDR = "ipv4_cidr", ipv6CIDR = "ipv6_cidr", actions, regexp
    }

    struct ActionConfig: Decodable {
        let action: LogFieldFilter.Action
        enum CodingKeys: String, CodingKey, CaseIterable { case type, parameter, name, value }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let text = try c.decode(String.self, forKey: .type)
            guard let kind = LogFieldFilter.Action.Kind(rawValue: text) else {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.type], "unknown action \"\(text)\"; known: replace, hash, delete")
            }
            let name = try c.decodeIfPresent(String.self, forKey: .parameter) ?? c.decodeIfPresent(String.self, forKey: .name) ?? ""
            action = LogFieldFilter.Action(kind: kind, name: name, value: try c.decodeIfPresent(String.self, forKey: .value) ?? "")
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .filter)
        let allowed: [String: [CodingKeys]] = ["delete": [], "replace": [.value], "ip_mask": [.ipv4CIDR, .ipv6CIDR],
                                               "query": [.actions], "cookie": [.actions], "regexp": [.regexp, .value], "hash": []]
        guard let options = allowed[name] else {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.filter],
                              "unknown field filter \"\(name)\"; known: cookie, delete, hash, ip_mask, query, regexp, replace")
        }
        for key in CodingKeys.allCases where key != .filter && c.contains(key) && !options.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key], "\(key.stringValue) is not an option of the \(name) filter")
        }
        switch name {
        case "delete": filter = .delete
        case "replace": filter = .replace(try c.decodeIfPresent(String.self, forKey: .value) ?? "")
        case "ip_mask":
            let v4 = try c.decodeIfPresent(Int.self, forKey: .ipv4CIDR) ?? 0, v6 = try c.decodeIfPresent(Int.self, forKey: .ipv6CIDR) ?? 0
            guard (0...32).contains(v4), (0...128).contains(v6) else {
                throw ConfigError(codingPath: decoder.codingPath, "ipv4_cidr must be 0 to 32 and ipv6_cidr 0 to 128")
            }
            filter = .ipMask(v4: v4, v6: v6)
        case "query": filter = .query(try c.decode([ActionConfig].self, forKey: .actions).map(\.action))
        case "cookie": filter = .cookie(try c.decode([ActionConfig].self, forKey: .actions).map(\.action))
        case "regexp":
            filter = .regexp(try c.decode(Pattern.self, forKey: .regexp), try c.decodeIfPresent(String.self, forKey: .value) ?? "")
        default: filter = .hash
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
