/// A server's access log, on when its config has `logs` (Caddy's server `logs`): one entry per
/// request, from logger `http.log.access` (`.name` per `default_logger_name`/`logger_names`), to
/// every log that takes that logger at its level — info below 400, error from 400. Entries are
/// Caddy 2.6.2's, field for field; beyond Caddy, a `token` query parameter is logged as
/// `REDACTED` (file_sync's tokens must not reach log files).
package final class AccessLog: Sendable {
    let config: ServerLogsConfig
    /// Logger short name (`""`: the base) → its full name and the logs that take it.
    private let loggers: [String: Logger]
    /// The only logger, when no host maps to another (no lookup per request).
    private let only: Logger?

    private struct Logger {
        let name: String
        let outputs: [Logs.Output]
        /// The constant text of its JSON entries (`AccessEntry.jsonHead`).
        let jsonHead: [UInt8]
    }

    static let base = "http.log.access"

    init(_ config: ServerLogsConfig, logs: Logs) {
        self.config = config
        var loggers: [String: Logger] = [:]
        for name in Set([config.defaultLoggerName ?? ""] + config.loggerNames.values) {
            let logger = name.isEmpty ? Self.base : Self.base + "." + name
            loggers[name] = Logger(name: logger, outputs: logs.outputs(for: logger), jsonHead: AccessEntry.jsonHead(logger: logger))
        }
        self.loggers = loggers
        only = config.loggerNames.isEmpty && config.skipHosts.isEmpty && !config.skipUnmappedHosts
            ? loggers[config.defaultLoggerName ?? ""] : nil
    }


    /// Records one answered request (on its connection's loop; entries leave at the tick's end).
    func record(_ request: Request, status: Int, size: Int, headers: HTTPFields, userID: String, startedNanos: UInt64, loop: EventLoop?) {
        guard let logger = only ?? loggerName(for: request.host).flatMap({ loggers[$0] }) else { return }
        let level: LogLevel = status >= 400 ? .error : .info
        let targets = logger.outputs
        guard targets.contains(where: { level >= $0.level }) else { return }
        let entry = AccessEntry(request: request, level: level, wallNanos: SystemClock.wallNanos(), credentials: config.shouldLogCredentials, userID: userID,
                                duration: SystemClock.monotonicNanos() &- startedNanos, size: size, status: status,
                                headers: headers, server: headers.contains("server") ? nil : "Quantum")
        for output in targets where output.admits(level, "handled request") {
            LogBatch.write(to: output.sink, loop: loop) { buffer in
                if output.encoder.format == .json && output.encoder.filters == nil {
                    var buffer = buffer
                    entry.appendJSON(head: logger.jsonHead, to: &buffer)
                    return buffer
                }
                return entry.append(output.encoder, logger: logger.name, to: buffer)
            }
        }
    }

    /// Fields whose values are logged as `[]` unless `should_log_credentials`.
    static let credentialRequestFields = ["cookie", "authorization", "proxy-authorization"]
    static let credentialResponseFields = ["set-cookie"]

    /// The request as Caddy 2.6.2 logs it.
    static func describe(_ request: Request, credentials: Bool, into line: inout LogLine) {
        line.object("request") { line in
            let connection = request.connection
            line.field("remote_ip", string: connection.remoteHost)
            line.field("remote_port", quotedInt: connection.remoteAddress.port)
            line.field("proto", string: request.proto)
            line.field("method", string: request.originalMethod)
            line.field("host", string: request.host)
            line.field("uri", string: redactingToken(request.originalURI))
            line.headers("headers", request.headers, hidden: credentials ? [] : credentialRequestFields, skipped: "host")
            if let tls = connection.tls {
                line.object("tls") { line in
                    line.field("resumed", bool: tls.resumed)
                    line.field("version", int: tls.versionNumber)
                    line.field("cipher_suite", int: tls.cipherSuiteID)
                    line.field("proto", string: tls.applicationProtocol)
                    line.field("proto_mutual", bool: true)
                    line.field("server_name", string: tls.serverName)
                }
            }
        }
    }

    /// Which logger takes a request for `host` (nil: none, it is skipped), as Caddy decides.
    func loggerName(for host: String) -> String? {
        if config.loggerNames.isEmpty && config.skipHosts.isEmpty && !config.skipUnmappedHosts { return config.defaultLoggerName ?? "" }
        if let name = mapped(host) { return name }
        let hostname = HostPort.split(host).host
        if config.skipHosts.contains(where: { Self.matches(hostname, $0) || Self.matches(host, $0) }) { return nil }
        if config.skipUnmappedHosts { return nil }
        return config.defaultLoggerName ?? ""
    }

    private func mapped(_ host: String) -> String? {
        guard !config.loggerNames.isEmpty else { return nil }
        func lookup(_ key: String) -> String? {
            if let name = config.loggerNames[key] { return name }
            let hostOnly = HostPort.split(key).host
            return hostOnly != key ? config.loggerNames[hostOnly] : nil
        }
        if let name = lookup(host) { return name }
        var labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for i in labels.indices where !labels[i].isEmpty {
            labels[i] = "*"
            if let name = lookup(labels.joined(separator: ".")) { return name }
        }
        return nil
    }

    /// certmagic's wildcard match: `*.example.com` matches one label.
    private static func matches(_ host: String, _ pattern: String) -> Bool {
        if host.equalsIgnoringASCIICase(pattern) { return true }
        guard pattern.hasPrefix("*.") else { return false }
        guard let dot = host.firstIndex(of: ".") else { return false }
        return host[dot...].equalsIgnoringASCIICase(pattern.dropFirst())
    }

    /// `token=...` in the query becomes `token=REDACTED`.
    static func redactingToken(_ uri: String) -> String {
        guard uri.utf8.contains(63), let q = uri.firstIndex(of: "?"), uri[q...].contains("token=") else { return uri }
        let query = uri[uri.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { pair -> Substring in
            pair.hasPrefix("token=") ? "token=REDACTED" : pair
        }
        return String(uri[...q]) + query.joined(separator: "&")
    }
}
