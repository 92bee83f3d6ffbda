/// One access log entry's values, and the two ways it is written: `appendJSON` for zap's JSON
/// encoder with no filters — Caddy's default, and the hot path — and `append(_:logger:to:)`
/// through `LogLine` for the console and filter encoders. Both write the same JSON bytes for the
/// same entry (`AccessEntryTests` holds them to each other).
struct AccessEntry {
    let request: Request
    let level: LogLevel
    let wallNanos: UInt64
    let credentials: Bool
    /// `{http.auth.user.id}`: who an `authentication` handler let through ("" for nobody).
    let userID: String
    let duration: UInt64
    let size: Int
    let status: Int
    /// The response's header fields; `server`, when given, is logged first as `Server` (the
    /// field the connection adds itself).
    let headers: HTTPFields
    let server: String?

    /// `,"logger":"…","msg":"handled request","request":{"remote_ip":"`: the constant text after
    /// the time, made once per logger.
    static func jsonHead(logger: String) -> [UInt8] {
        var head = LogBuffer()
        head.append(",\"logger\":")
        head.appendQuoted(logger)
        head.append(",\"msg\":\"handled request\",\"request\":{\"remote_ip\":\"")
        return head.withBytes { Array($0) }
    }

    /// The entry as zap's JSON encoder writes it: the constant text between values as whole
    /// literals, so an entry is a few dozen copies with no decisions on the way.
    func appendJSON(head: [UInt8], to bytes: inout LogBuffer) {
        bytes.append(level == .error ? "{\"level\":\"error\",\"ts\":" : "{\"level\":\"info\",\"ts\":")
        bytes.append(seconds: wallNanos)
        head.withUnsafeBufferPointer { bytes.append($0) }
        let connection = request.connection
        bytes.appendEscaped(connection.remoteHost)
        bytes.append("\",\"remote_port\":\"")
        bytes.append(unsigned: UInt(connection.remoteAddress.port))
        bytes.append("\",\"proto\":\"")
        bytes.appendEscaped(request.proto)
        bytes.append("\",\"method\":\"")
        bytes.appendEscaped(request.originalMethod)
        bytes.append("\",\"host\":\"")
        bytes.appendEscaped(request.host)
        bytes.append("\",\"uri\":\"")
        bytes.appendEscaped(AccessLog.redactingToken(request.originalURI))
        bytes.append("\",\"headers\":{")
        Self.appendJSON(request.headers, hidden: credentials ? [] : AccessLog.credentialRequestFields, skipped: "host", server: nil, to: &bytes)
        if let tls = connection.tls {
            bytes.append("},\"tls\":{\"resumed\":")
            bytes.append(tls.resumed ? "true" : "false")
            bytes.append(",\"version\":")
            bytes.append(decimal: tls.versionNumber)
            bytes.append(",\"cipher_suite\":")
            bytes.append(decimal: tls.cipherSuiteID)
            bytes.append(",\"proto\":")
            bytes.appendQuoted(tls.applicationProtocol)
            bytes.append(",\"proto_mutual\":true,\"server_name\":")
            bytes.appendQuoted(tls.serverName)
        }
        bytes.append("}},\"user_id\":\"")
        bytes.appendEscaped(userID)
        bytes.append("\",\"duration\":")
        bytes.append(seconds: duration)
        bytes.append(",\"size\":")
        bytes.append(decimal: size)
        bytes.append(",\"status\":")
        bytes.append(decimal: status)
        bytes.append(",\"resp_headers\":{")
        Self.appendJSON(headers, hidden: credentials ? [] : AccessLog.credentialResponseFields, skipped: nil, server: server, to: &bytes)
        bytes.append("}}\n")
    }

    /// Header fields as Go logs `http.Header` (see `LogLine.headers`), between the braces.
    private static func appendJSON(_ fields: HTTPFields, hidden: [String], skipped: String?, server: String?, to bytes: inout LogBuffer) {
        var first = true
        if let server {
            bytes.append("\"Server\":[")
            bytes.appendQuoted(server)
            bytes.append(93)
            first = false
        }
        let all = fields.fields
        for i in all.indices {
            let name = all[i].name
            if let skipped, name.equalsIgnoringASCIICase(skipped) { continue }
            // Repeats were written with their first occurrence.
            if i > 0, all[..<i].contains(where: { $0.name.equalsIgnoringASCIICase(name) }) { continue }
            bytes.append(first ? "\"" : ",\"")
            first = false
            bytes.appendCanonical(name)
            bytes.append("\":[")
            if !hidden.contains(where: { name.equalsIgnoringASCIICase($0) }) {
                bytes.appendQuoted(all[i].value)
                for later in all[(i + 1)...] where later.name.equalsIgnoringASCIICase(name) {
                    bytes.append(44)
                    bytes.appendQuoted(later.value)
                }
            }
            bytes.append(93)
        }
    }

    /// The entry through `encoder` (console, filters) as a `LogLine` writes it.
    func append(_ encoder: LogEncoderConfig, logger: String, to bytes: consuming LogBuffer) -> LogBuffer {
        var line = LogLine(encoder, level: level, logger: logger, message: "handled request", wallNanos: wallNanos, buffer: bytes)
        AccessLog.describe(request, credentials: credentials, into: &line)
        line.field("user_id", string: userID)
        line.field("duration", seconds: duration)
        line.field("size", int: size)
        line.field("status", int: status)
        line.headers("resp_headers", headers, hidden: credentials ? [] : AccessLog.credentialResponseFields, server: server)
        return line.end()
    }
}
