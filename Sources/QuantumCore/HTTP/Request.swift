/// Facts about the connection a request arrived on. A class: made once per connection and
/// shared by its requests, so copying a request copies one reference, not two addresses.
public final class ConnectionInfo: Sendable {
    /// The peer's address as the socket saw it; a proxy in front shows here, not the client.
    public let remoteAddress: SocketAddress
    /// The address the connection was accepted on (`{http.request.local}`).
    public let localAddress: SocketAddress
    /// True on HTTPS connections; `Request.scheme` follows it.
    public let isTLS: Bool
    /// What the TLS handshake agreed on (version, cipher suite, SNI, ALPN, client certificate).
    public let tls: TLSInfo?
    /// The peer's IP as text, formatted once per connection (`X-Forwarded-For`, placeholders).
    public let remoteHost: String
    /// `isTLS` is implied when `tls` is given; servers make these, tests and custom listeners may too.
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
    /// As received (methods are case-sensitive: `GET`, not `get`); rewrites may change it.
    public var method: String
    /// The escaped path, as received or as last rewritten.
    public var rawPath: String
    /// The query string without `?`.
    public var query: String
    /// `HTTP/1.1`, `HTTP/1.0`, `HTTP/2.0`.
    public var proto: String
    /// The request's header fields, in order received; changes here are what `next` and upstreams see.
    public var headers: HTTPFields
    /// Host from the target or the Host header, with any port.
    public var host: String
    /// Streams in as it arrives; read it at most once across the chain (copies share the stream).
    public var body: RequestBody
    /// RFC 8441 extended CONNECT's `:protocol` (`websocket`) on an HTTP/2 stream; nil otherwise.
    /// Such a request has method `CONNECT` (as Caddy shows it) and its stream becomes the
    /// tunnel when a handler claims it with an upgrade response.
    public var connectProtocol: String?
    /// Addresses and TLS facts of the connection; shared by every request on it.
    public let connection: ConnectionInfo
    /// The method and URI before any rewrite (Caddy's `orig_*` placeholders; error routes use them).
    public let originalMethod: String
    /// Path and query before any rewrite, escaped as received (`{http.request.orig_uri}`).
    public let originalURI: String

    /// For requests made in code (tests, subrequests); `originalMethod` and `originalURI` are taken from these.
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

    /// `https` or `http`, from the connection only (not `X-Forwarded-Proto`).
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
