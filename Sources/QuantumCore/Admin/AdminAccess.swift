/// Who may use the admin API: requests must name the endpoint in `Host` (a web page that
/// rebinds a DNS name to 127.0.0.1 cannot), and an `Origin` (or `Referer`), when sent, must be
/// allowed — also without `enforce_origin`, which only makes the header required. Stricter than
/// Caddy 2.6.2 (it checks origins only when enforcing), so no web page can `POST /stop`; Caddy's
/// CLI sends an allowed origin.
package struct AdminAccess: Sendable {
    /// Allowed origins: a host with its port, and a scheme when one was configured.
    let allowed: [(scheme: String?, host: String)]
    let enforceOrigin: Bool
    /// Over a Unix socket `Host` says nothing (no browser reaches one, so no DNS rebinding): it
    /// is not checked, and `Origin` only against the `origins` the config names.
    private var unixSocket = false

    /// For an endpoint on a Unix socket.
    public init(unixOrigins origins: [String], enforceOrigin: Bool) {
        allowed = Self.parse(origins)
        self.enforceOrigin = enforceOrigin
        unixSocket = true
    }

    /// For an endpoint on `host:port`: `origins` when given, else the endpoint's own address and,
    /// on loopback, its usual names (`localhost`, `127.0.0.1`, `::1`) with the port — as Caddy.
    public init(listenHost: String, port: Int, origins: [String], enforceOrigin: Bool) {
        var list: [String] = origins
        if origins.isEmpty {
            let loopback = ["localhost", "127.0.0.1", "::1"].contains(listenHost.asciiLowercased())
                || listenHost.hasPrefix("127.")
            if loopback { list += ["localhost", "::1", "127.0.0.1"].map { Self.join($0, port) } }
            let own = Self.join(listenHost, port)
            if !list.contains(own) { list.append(own) }
        }
        allowed = Self.parse(list)
        self.enforceOrigin = enforceOrigin
    }

    private static func parse(_ origins: [String]) -> [(scheme: String?, host: String)] {
        origins.map { origin in
            if let range = origin.firstRange(of: "://") {
                return (String(origin[..<range.lowerBound]).asciiLowercased(), String(origin[range.upperBound...]).asciiLowercased())
            }
            return (nil, origin.asciiLowercased())
        }
    }

    /// The allowed origins as Caddy logs them (`//localhost:2019`).
    var originNames: [String] { allowed.map { ($0.scheme.map { $0 + ":" } ?? "") + "//" + $0.host } }

    package static func join(_ host: String, _ port: Int) -> String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }

    /// Why `request` is refused (403), or nil when it may go on.
    public func refusal(_ request: Request) -> AdminError? {
        let host = request.host.asciiLowercased()
        guard unixSocket || allowed.contains(where: { $0.host == host }) else { return AdminError(403, "host not allowed: \(request.host)") }
        let origin = request.headers["origin"] ?? request.headers["referer"].flatMap(Self.origin(ofReferer:))
        guard let origin, !origin.isEmpty else {
            return enforceOrigin ? AdminError(403, "missing required Origin header") : nil
        }
        if unixSocket && allowed.isEmpty { return nil }
        guard let (scheme, originHost) = Self.split(origin),
              allowed.contains(where: { ($0.scheme == nil || $0.scheme == scheme) && $0.host == originHost }) else {
            return AdminError(403, "client is not allowed to access from origin '\(origin)'")
        }
        return nil
    }

    /// `scheme://host[:port]` of a Referer URL.
    private static func origin(ofReferer referer: String) -> String? {
        guard let (scheme, rest) = split(referer) else { return nil }
        return scheme + "://" + rest
    }

    /// An origin's scheme and host (with port), lowercased; nil when it is not `scheme://host...`.
    private static func split(_ origin: String) -> (String, String)? {
        guard let range = origin.firstRange(of: "://") else { return nil }
        let scheme = String(origin[..<range.lowerBound]).asciiLowercased()
        let rest = origin[range.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return (scheme, String(host).asciiLowercased())
    }
}
