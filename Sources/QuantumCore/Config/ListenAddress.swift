import Glibc

/// A Caddy network address (`:8080`, `127.0.0.1:8080`, `[::1]:8080`, `tcp/localhost:8080-8085`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var network: String
    public var host: String
    public var portRange: ClosedRange<Int>

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        let ports = portRange.count == 1 ? "\(portRange.lowerBound)" : "\(portRange.lowerBound)-\(portRange.upperBound)"
        return "\(network)/\(h):\(ports)"
    }

    /// Parses Caddy's syntax; `defaultPort` fills in a missing port.
    public static func parse(_ text: String, defaultPort: Int? = nil) throws -> ListenAddress {
        var rest = Substring(text)
        var network = "tcp"
        if let slash = rest.firstIndex(of: "/"), !rest[..<slash].contains(":") {
            network = String(rest[..<slash]).asciiLowercased()
            rest = rest[rest.index(after: slash)...]
        }
        guard ["tcp", "tcp4", "tcp6"].contains(network) else {
            throw ConfigError(path: "", "unsupported network \"\(network)\" in listen address \"\(text)\" (tcp, tcp4, tcp6 are supported)")
        }
        var host = ""
        var portText = ""
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw ConfigError(path: "", "invalid listen address \"\(text)\"") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty {
                throw ConfigError(path: "", "invalid listen address \"\(text)\"")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        let range: ClosedRange<Int>
        if portText.isEmpty {
            guard let defaultPort else { throw ConfigError(path: "", "listen address \"\(text)\" has no port") }
            range = defaultPort...defaultPort
        } else {
            let bounds = portText.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let lo = Int(bounds[0]), let hi = Int(bounds.last!), 0...65535 ~= lo, 0...65535 ~= hi, lo <= hi else {
                throw ConfigError(path: "", "invalid port \"\(portText)\" in listen address \"\(text)\"")
            }
            range = lo...hi
        }
        return ListenAddress(network: network, host: host, portRange: range)
    }

    /// The socket addresses to bind: one per port; a host name resolves to its first address.
    public func socketAddresses() throws -> [SocketAddress] {
        let base: SocketAddress
        if host.isEmpty {
            base = network == "tcp4" ? SocketAddress(ip: "0.0.0.0", port: 0)! : SocketAddress(ip: "::", port: 0)!
        } else if let ip = SocketAddress(ip: host, port: 0) {
            base = ip
        } else if host.asciiLowercased() == "localhost" {
            base = network == "tcp6" ? SocketAddress(ip: "::1", port: 0)! : SocketAddress(ip: "127.0.0.1", port: 0)!
        } else {
            base = try Self.resolve(host)
        }
        return portRange.map { SocketAddress(family: base.family, bytes: base.bytes, port: $0) }
    }

    private static func resolve(_ host: String) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
            throw ConfigError(path: "", "cannot resolve listen host \"\(host)\"")
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return SocketAddress(storage: storage)
    }
}
