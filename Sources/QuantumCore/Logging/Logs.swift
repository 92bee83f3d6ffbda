/// The logs a config defines, opened: each a sink, an encoder, a level and the loggers it takes
/// (Caddy's `include`/`exclude`: a name takes its children too, the longest match wins). Without
/// a `default` log, Caddy's is added: everything of INFO and above, as JSON on standard error.
package final class Logs: Sendable {
    /// A class: handed around per entry, one reference rather than its fields.
    final class Output: Sendable {
        let name: String
        let sink: LogSink
        let encoder: LogEncoderConfig
        let level: LogLevel
        let include: [String]
        let exclude: [String]
        let sampler: LogSampler?

        init(name: String, sink: LogSink, encoder: LogEncoderConfig, level: LogLevel, include: [String], exclude: [String],
             sampler: LogSampler? = nil) {
            self.sampler = sampler
            self.name = name
            self.sink = sink
            self.encoder = encoder
            self.level = level
            self.include = include
            self.exclude = exclude
        }

        /// Whether an entry of `level` and `message` is written to this log (its level, its sampling).
        @inline(__always)
        func admits(_ level: LogLevel, _ message: @autoclosure () -> String) -> Bool {
            level >= self.level && (sampler?.admits(level, message()) ?? true)
        }

        /// Whether this log takes entries of `logger` (Caddy 2.6.2's rule).
        func takes(_ logger: String) -> Bool {
            if include.isEmpty && exclude.isEmpty { return true }
            let name = logger.isEmpty ? logger : logger + "."
            var accept = 0, reject = 0
            for namespace in include where name.hasPrefix(namespace + ".") { accept = max(accept, namespace.count) }
            if !include.isEmpty && accept == 0 { return false }
            for namespace in exclude {
                if namespace == "*" { return false }
                if name.hasPrefix(namespace + ".") { reject = max(reject, namespace.count) }
            }
            if reject > accept { return false }
            return accept > reject || (include.isEmpty && reject == 0)
        }
    }

    let outputs: [Output]

    package init(_ config: LoggingConfig) throws {
        var logs = config.logs
        if logs["default"] == nil { logs["default"] = LogConfig() }
        var outputs: [Output] = []
        for name in logs.keys.sorted() {
            let log = logs[name]!
            do {
                outputs.append(Output(name: name, sink: try LogSink(log.writer), encoder: log.encoder, level: log.level,
                                      include: log.include, exclude: log.exclude, sampler: log.sampling.map(LogSampler.init)))
            } catch {
                throw ConfigError(path: "logging.logs.\(name).writer", "\(error)")
            }
        }
        self.outputs = outputs
    }

    /// The logs that take `logger`'s entries, with their levels.
    func outputs(for logger: String) -> [Output] { outputs.filter { $0.takes(logger) } }
}
