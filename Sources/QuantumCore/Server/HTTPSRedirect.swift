/// Automatic HTTPS's redirect: `308 Permanent Redirect` to `https://{host}[:port]{uri}`, as Caddy
/// answers on the HTTP port for each site it serves over TLS.
struct HTTPSRedirect: SynchronousHandler {
    /// The HTTPS port to name; nil for 443 and for the app's `https_port` (Caddy leaves that out
    /// too: the port may be proxied behind the standard one).
    let port: Int?

    func location(for request: Request) -> String {
        let host = request.hostname.contains(":") ? "[\(request.hostname)]" : request.hostname
        return "https://" + host + (port.map { ":\($0)" } ?? "") + request.uri
    }

    /// Closes the connection after answering, like Caddy's redirect (`close: true`).
    func response(_ request: Request) -> Response {
        var r = Response(status: 308, headers: HTTPFields([("Location", location(for: request))]))
        r.closeConnection = true
        return r
    }

    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult { .response(response(request)) }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response { response(request) }
}

/// The hosts a redirect route answers for: exact names and `*` labels, case-insensitively.
struct SiteNamesMatcher: RequestMatcher {
    let names: [String]

    func matches(_ request: Request, context: inout Context) -> Bool {
        SiteNames.contains(names, request.hostname.lowercased())
    }
}

/// Name patterns as Caddy's automation compares them: equal, or `*` standing for one label.
enum SiteNames {
    static func contains(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { matches($0, name) }
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        if pattern == name { return true }
        let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let n = name.split(separator: ".", omittingEmptySubsequences: false)
        return p.count == n.count && zip(p, n).allSatisfy { $0 == "*" || $0 == $1 }
    }

    /// Caddy's test for a name automatic HTTPS may get a certificate for: non-empty, only
    /// letters, digits, `-`, `.`, `*` (or an IP address), not starting or ending with a dot.
    static func qualifies(_ name: String) -> Bool {
        if SocketAddress(ip: name, port: 0) != nil { return true }
        guard !name.isEmpty, !name.hasPrefix("."), !name.hasSuffix(".") else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e || c == 0x2a
        }
    }
}
