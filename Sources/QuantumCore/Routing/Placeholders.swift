import Glibc

/// Resolves Caddy placeholder names (`http.request.uri.path`, `http.vars.x`, ...) for a request.
public enum Placeholders {
    /// The value of placeholder `name`, or nil when it is unknown.
    public static func resolve(_ name: String, request r: Request, context c: Context, response: Response? = nil) -> String? {
        if let v = c.placeholders[name] { return v }
        if name.hasPrefix("http.request.") { return requestValue(name.dropFirst(13), r) }
        if name.hasPrefix("http.vars.") {
            let key = String(name.dropFirst(10))
            if let v = c.vars[key] { return v }
            if key == "client_ip" { return r.connection.remoteHost }
            return ""  // as Caddy: variables are dynamic, so an unset one is known and empty
        }
        if name.hasPrefix("http.response.header."), let response { return response.headers[String(name.dropFirst(21))] ?? "" }
        if name == "http.response.status" || name == "http.response.status_code", let response { return String(response.status) }
        if name.hasPrefix("time.now") { return timeValue(name.dropFirst(8)) }
        if name.hasPrefix("env.") { return getenv(String(name.dropFirst(4))).map { String(cString: $0) } ?? "" }
        switch name {
        case "system.hostname":
            var buf = [CChar](repeating: 0, count: 256)
            gethostname(&buf, 255)
            return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case "system.os": return "linux"
        case "system.arch":
            #if arch(x86_64)
            return "amd64"
            #else
            return "arm64"
            #endif
        case "system.slash": return "/"
        default: return nil
        }
    }

    private static func requestValue(_ key: Substring, _ r: Request) -> String? {
        switch key {
        case "method": return r.method
        case "scheme": return r.scheme
        case "proto": return r.proto
        case "host": return r.hostname
        case "hostport": return r.host
        case "port":
            let p = HostPort.split(r.host).port
            return p.isEmpty ? (r.connection.isTLS ? "443" : "80") : p
        case "uri": return r.uri
        case "uri.path": return r.path
        case "uri.path.dir":
            let p = r.path
            guard let slash = p.lastIndex(of: "/") else { return "/" }
            return String(p[...slash])
        case "uri.path.file":
            return String(r.path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        case "uri.path.file.base":
            let file = r.path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
            if let dot = file.lastIndex(of: ".") { return String(file[..<dot]) }
            return String(file)
        case "uri.path.file.ext":
            let file = r.path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
            if let dot = file.lastIndex(of: ".") { return String(file[dot...]) }
            return ""
        case "uri.query": return r.query
        case "uri.prefixed_query": return r.query.isEmpty ? "" : "?" + r.query
        case "orig_method": return r.originalMethod
        case "orig_uri": return r.originalURI
        case "orig_uri.path":
            let u = r.originalURI
            return PathCodec.unescape(String(u.prefix { $0 != "?" })) ?? String(u.prefix { $0 != "?" })
        case "orig_uri.query":
            guard let q = r.originalURI.firstIndex(of: "?") else { return "" }
            return String(r.originalURI[r.originalURI.index(after: q)...])
        case "remote": return r.connection.remoteAddress.description
        case "remote.host": return r.connection.remoteHost
        case "remote.port": return String(r.connection.remoteAddress.port)
        case "local": return r.connection.localAddress.description
        case "local.host": return r.connection.localAddress.host
        case "local.port": return String(r.connection.localAddress.port)
        case "uuid": return UUIDv4.make()
        default: break
        }
        if key.hasPrefix("tls.") { return tlsValue(key.dropFirst(4), r.connection.tls) }
        if key.hasPrefix("header.") { return r.headers.values(String(key.dropFirst(7))).joined(separator: ",") }
        if key.hasPrefix("uri.query.") { return r.queryValues(String(key.dropFirst(10))).first ?? "" }
        if key.hasPrefix("cookie.") { return Cookies.value(String(key.dropFirst(7)), in: r.headers) ?? "" }
        if key.hasPrefix("host.labels.") {
            guard let n = Int(key.dropFirst(12)) else { return nil }
            let labels = r.hostname.split(separator: ".").reversed().map(String.init)
            return n < labels.count ? labels[n] : ""
        }
        if key.hasPrefix("uri.path.") {
            guard let n = Int(key.dropFirst(9)) else { return nil }
            // Like Caddy: split on "/" and drop only the leading empty part (`/a//b` → a, "", b).
            var segments = r.path.split(separator: "/", omittingEmptySubsequences: false)
            if segments.first == "" { segments.removeFirst() }
            return n >= 0 && n < segments.count ? String(segments[n]) : ""
        }
        return nil
    }

    /// `{http.request.tls.*}`: empty on a plain connection, like Caddy's unset values.
    private static func tlsValue(_ key: Substring, _ tls: TLSInfo?) -> String? {
        guard let tls else { return "" }
        switch key {
        case "version": return tls.version
        case "cipher_suite": return tls.cipherSuite
        case "server_name": return tls.serverName
        case "proto": return tls.applicationProtocol
        case "proto_mutual": return "true"
        case "resumed": return tls.resumed ? "true" : "false"
        default:
            if key.hasPrefix("client.") { return tls.clientValue(key.dropFirst(7)) }
            return nil
        }
    }

    private static func timeValue(_ rest: Substring) -> String? {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        switch rest {
        case ".unix": return String(ts.tv_sec)
        case ".unix_ms": return String(ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000)
        case ".http": return HTTPDate.format(epochSeconds: ts.tv_sec)
        case "", ".rfc3339": return RFC3339.format(epochSeconds: ts.tv_sec)
        case ".year":
            var t = time_t(ts.tv_sec); var tm = tm(); gmtime_r(&t, &tm)
            return String(tm.tm_year + 1900)
        default: return nil
        }
    }
}

/// `Cookie` header parsing.
package enum Cookies {
    public static func value(_ name: String, in headers: HTTPFields) -> String? {
        for line in headers.values("cookie") {
            for pair in line.split(separator: ";") {
                let kv = pair.trimmingOWS().split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }
}

/// RFC 3339 timestamps in UTC.
package enum RFC3339 {
    public static func format(epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func pad(_ v: Int32, _ n: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1))-\(pad(tm.tm_mday))T\(pad(tm.tm_hour)):\(pad(tm.tm_min)):\(pad(tm.tm_sec))Z"
    }
}

/// Random version-4 UUIDs.
package enum UUIDv4 {
    public static func make() -> String {
        var g = SystemRandomNumberGenerator()
        var b = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        b[6] = b[6] & 0x0f | 0x40
        b[8] = b[8] & 0x3f | 0x80
        let hex = b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-" + hex[8..<10].joined() + "-" + hex[10...].joined()
    }
}
