/// Facts about the connection a request arrived on. A class: made once per connection and
/// shared by its requests, so copying a request copies one reference, not two addresses.
public final class ConnectionInfo: Sendable {
    public let remoteAddress: SocketAddress
    public let localAddress: SocketAddress
    public let isTLS: Bool
    /// What the TLS handshake agreed on (version, cipher suite, SNI, ALPN, client certificate).
    public let tls: TLSInfo?
    /// The peer's IP as text, formatted once per connection (`X-Forwarded-For`, placeholders).
    public let remoteHost: String
    public init(remoteAddress: SocketAddress, localAddress: SocketAddress, isTLS: Bool = false, tls: TLSInfo? = nil) {
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.isTLS = isTLS || tls != nil
        self.tls = tls
        remoteHost = remoteAddress.host
    }

    private init(_ other: ConnectionInfo, tls: TLSInfo) {
        remoteAddress = other.remoteAddress
        localAddress = other.localAddress
        isTLS = true
        self.tls = tls
        remoteHost = other.remoteHost
    }

    /// The same connection once its TLS handshake is done.
    public func with(tls: TLSInfo) -> ConnectionInfo { ConnectionInfo(self, tls: tls) }

    /// For requests made in code (tests, internal subrequests) rather than read from a socket.
    public static let unspecified = ConnectionInfo(remoteAddress: .unspecified, localAddress: .unspecified)
}

/// An HTTP request as handlers see it. A value: handlers that rewrite it pass a changed copy to `next`.
public struct Request: Sendable {
    public var method: String
    /// The escaped path, as received or as last rewritten.
    public var rawPath: String
    /// The query string without `?`.
    public var query: String
    /// `HTTP/1.1`, `HTTP/1.0`, `HTTP/2.0`.
    public var proto: String
    public var headers: HTTPFields
    /// Host from the target or the Host header, with any port.
    public var host: String
    public var body: RequestBody
    /// RFC 8441 extended CONNECT's `:protocol` (`websocket`) on an HTTP/2 stream; nil otherwise.
    /// Such a request has method `CONNECT` (as Caddy shows it) and its stream becomes the
    /// tunnel when a handler claims it with an upgrade response.
    public var connectProtocol: String?
    public let connection: ConnectionInfo
    /// The method and URI before any rewrite (Caddy's `orig_*` placeholders; error routes use them).
    public let originalMethod: String
    public let originalURI: String

    public init(method: String, rawPath: String, query: String = "", proto: String = "HTTP/1.1",
                headers: HTTPFields = HTTPFields(), host: String = "", body: RequestBody = .empty,
                connection: ConnectionInfo = .unspecified) {
        self.method = method
        self.rawPath = rawPath
        self.query = query
        self.proto = proto
        self.headers = headers
        self.host = host
        self.body = body
        self.connection = connection
        originalMethod = method
        originalURI = query.isEmpty ? rawPath : rawPath + "?" + query
    }

    /// The percent-decoded path (Caddy's `{http.request.uri.path}`).
    public var path: String { PathCodec.unescape(rawPath) ?? rawPath }

    /// Path and query as they would appear in a request line.
    public var uri: String { query.isEmpty ? rawPath : rawPath + "?" + query }

    /// The host without its port (and without IPv6 brackets).
    public var hostname: String { HostPort.split(host).host }

    public var scheme: String { connection.isTLS ? "https" : "http" }

    /// Values of the query parameter `key`, decoded.
    public func queryValues(_ key: String) -> [String] { QueryString.values(of: key, in: query) }
}

/// Splits `host:port`, `[v6]:port`.
package enum HostPort {
    public static func split(_ s: String) -> (host: String, port: String) {
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return (s, "") }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            return (host, rest.hasPrefix(":") ? String(rest.dropFirst()) : "")
        }
        if let colon = s.lastIndex(of: ":"), s.firstIndex(of: ":") == colon {
            return (String(s[..<colon]), String(s[s.index(after: colon)...]))
        }
        return (s, "")
    }
}
