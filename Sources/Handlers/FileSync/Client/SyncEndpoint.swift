import QuantumCore

/// Where a sync server is: `http(s)://host:port[/prefix]` split into what the HTTP and WebSocket
/// clients need. The prefix is the `file_sync` handler's own `prefix`, so one URL names both
/// `PREFIX/api/...` and `PREFIX/ws` (wss:// for an https server).
public struct SyncEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Without a trailing slash; empty when the handler sits at the root.
    public var prefix: String
    /// The `Host` header (port only when not the scheme's default, IPv6 in brackets).
    public var hostHeader: String
    /// https://: TLS for the API and the WebSocket.
    public var isTLS: Bool

    public init(_ url: String) throws(SyncClientError) {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw .invalidServerURL("\(url): expected http(s)://HOST:PORT[/prefix]")
        }
        isTLS = lower.hasPrefix("https://")
        var rest = Substring(url.dropFirst(isTLS ? 8 : 7))
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        let split = HostPort.split(String(authority))
        guard !split.host.isEmpty else { throw .invalidServerURL("\(url): no host") }
        let defaultPort = isTLS ? 443 : 80
        if split.port.isEmpty {
            port = defaultPort
        } else {
            guard let p = Int(split.port), (1...65535).contains(p) else { throw .invalidServerURL("\(url): bad port") }
            port = p
        }
        host = split.host
        prefix = path
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// The request target of an API endpoint (`list`, `download/a%20b.txt`, ...).
    public func apiTarget(_ endpoint: String) -> String { prefix + "/api/" + endpoint }

    /// The WebSocket URL of the handler's hub.
    public var webSocketURL: String { "\(isTLS ? "wss" : "ws")://\(hostHeader)\(prefix)/ws" }
}
