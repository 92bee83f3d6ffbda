import QuantumCore

/// Where a sync server is: `http://host:port[/prefix]` split into what the HTTP and WebSocket
/// clients need. The prefix is the `file_sync` handler's own `prefix`, so one URL names both
/// `PREFIX/api/...` and `PREFIX/ws`. Only http:// for now: the HTTP client has no TLS yet.
public struct SyncEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// Without a trailing slash; empty when the handler sits at the root.
    public var prefix: String
    /// The `Host` header (port only when not 80, IPv6 in brackets).
    public var hostHeader: String

    public init(_ url: String) throws(SyncClientError) {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") else {
            throw .invalidServerURL(lower.hasPrefix("https://") ? "\(url): https is not supported yet (the HTTP client has no TLS)"
                                                                 : "\(url): expected http://HOST:PORT[/prefix]")
        }
        var rest = Substring(url.dropFirst(7))
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        let split = HostPort.split(String(authority))
        guard !split.host.isEmpty else { throw .invalidServerURL("\(url): no host") }
        if split.port.isEmpty {
            port = 80
        } else {
            guard let p = Int(split.port), (1...65535).contains(p) else { throw .invalidServerURL("\(url): bad port") }
            port = p
        }
        host = split.host
        prefix = path
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == 80 ? bracketed : "\(bracketed):\(port)"
    }

    /// The request target of an API endpoint (`list`, `download/a%20b.txt`, ...).
    public func apiTarget(_ endpoint: String) -> String { prefix + "/api/" + endpoint }

    /// The WebSocket URL of the handler's hub.
    public var webSocketURL: String { "ws://\(hostHeader)\(prefix)/ws" }
}
