import Foundation
import QuantumCore

/// A site block key (`https://example.com:8443/path`) split into its parts, as Caddy's
/// `httpcaddyfile.Address`.
struct SiteAddress: Equatable {
    var original: String
    var scheme = ""
    var host = ""
    var port = ""
    var path = ""

    /// Parses a key; an out-of-range or non-numeric port is an error worded as Caddy's.
    init(parsing key: String) throws {
        var remaining = String(key.prefix(4096)).trimmingCharacters(in: .whitespaces)
        original = remaining
        if let r = remaining.range(of: "://") {
            scheme = String(remaining[..<r.lowerBound])
            remaining = String(remaining[r.upperBound...])
        }
        let hostPart: String
        if let slash = remaining.firstIndex(of: "/") {
            hostPart = String(remaining[..<slash])
            path = "/" + remaining[remaining.index(after: slash)...]
        } else {
            hostPart = remaining
        }
        if let (h, p) = Self.splitHostPort(hostPart) {
            host = h
            port = p
        } else if let (h, p) = Self.splitHostPort(hostPart + ":") {
            host = h
            port = p
        } else {
            host = hostPart
        }
        switch scheme {
        case "", "http", "https": break
        case "wss": throw CaddyfileError("the scheme wss:// is only supported in browsers; use https:// instead")
        case "ws": throw CaddyfileError("the scheme ws:// is only supported in browsers; use http:// instead")
        default: throw CaddyfileError("unsupported URL scheme \(scheme)://")
        }
        if !port.isEmpty {
            guard let n = Int(port) else {
                throw CaddyfileError("invalid port '\(port)': strconv.Atoi: parsing \"\(port)\": invalid syntax")
            }
            if n < 0 || n > 65535 { throw CaddyfileError("port \(n) is out of range") }
        }
    }

    /// The address with scheme and host lower-cased (placeholders kept) and IPv6 hosts canonical.
    var normalized: SiteAddress {
        var a = self
        a.scheme = Self.lowerExceptPlaceholders(scheme)
        var h = host.trimmingCharacters(in: .whitespaces)
        if h.contains(":"), let bytes = IPAddress.parseV6(h), !IPAddress.isV4Mapped(bytes) { h = IPAddress.format(bytes) }
        a.host = Self.lowerExceptPlaceholders(h)
        return a
    }

    /// Go's `net.SplitHostPort`: nil when the text is not `host:port` (brackets for IPv6).
    static func splitHostPort(_ s: String) -> (String, String)? {
        guard let colon = s.lastIndex(of: ":") else { return nil }
        var host = String(s[..<colon])
        let port = String(s[s.index(after: colon)...])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]") else { return nil }
            host = String(host.dropFirst().dropLast())
            if host.contains("[") || host.contains("]") { return nil }
        } else if host.contains(":") || host.contains("[") || host.contains("]") {
            return nil
        }
        if port.contains("[") || port.contains("]") { return nil }
        return (host, port)
    }

    /// Go's `net.JoinHostPort`.
    static func joinHostPort(_ host: String, _ port: String) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func lowerExceptPlaceholders(_ s: String) -> String {
        var out = ""
        var depth = 0
        for ch in s {
            if ch == "{" { depth += 1 } else if ch == "}" { depth = max(0, depth - 1) }
            out += depth > 0 || ch == "}" ? String(ch) : ch.lowercased()
        }
        return out
    }
}
