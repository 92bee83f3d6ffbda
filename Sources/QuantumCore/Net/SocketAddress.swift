import CQuantumLinux
import Glibc

/// An IPv4 or IPv6 socket address.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    /// `unspecified` is for sockets with no IP address (Unix sockets, requests made in tests).
    public enum Family: Sendable { case v4, v6, unspecified }
    /// Decides how many of the address bytes count and how the address prints.
    public let family: Family
    /// Address bytes kept inline (no heap object per connection or request).
    private let raw: (UInt64, UInt64)
    /// The TCP port in host byte order (0 when unspecified).
    public let port: Int

    /// The placeholder address for connections that have no IP peer (Unix sockets, tests).
    public static let unspecified = SocketAddress(family: .unspecified, bytes: [], port: 0)

    /// `bytes` are in network order (4 for IPv4, 16 for IPv6); extra bytes beyond 16 are dropped.
    public init(family: Family, bytes: [UInt8], port: Int) {
        self.family = family
        var raw: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes.prefix(16)) }
        self.raw = raw
        self.port = port
    }

    /// Address bytes (4 for IPv4, 16 for IPv6, none when unspecified).
    public var bytes: [UInt8] {
        let count = family == .v4 ? 4 : family == .v6 ? 16 : 0
        return withUnsafeBytes(of: raw) { Array($0.prefix(count)) }
    }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.family == b.family && a.raw == b.raw && a.port == b.port
    }

    /// Parses a numeric IPv4/IPv6 literal (no brackets).
    public init?(ip: String, port: Int) {
        if let v4 = IPAddress.parseV4(ip) { self.init(family: .v4, bytes: v4, port: port); return }
        if let v6 = IPAddress.parseV6(ip) { self.init(family: .v6, bytes: v6, port: port); return }
        return nil
    }

    /// The address without port, e.g. `127.0.0.1` or `::1` (IPv4-mapped IPv6 shown as IPv4).
    public var host: String { IPAddress.format(bytes) }

    public var description: String { family == .v6 && !IPAddress.isV4Mapped(bytes) ? "[\(host)]:\(port)" : "\(host):\(port)" }

    init(storage: sockaddr_storage) {
        var s = storage
        switch Int32(s.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: &s) { $0.load(as: sockaddr_in.self) }
            let addr = withUnsafeBytes(of: sin.sin_addr) { Array($0) }
            self.init(family: .v4, bytes: addr, port: Int(UInt16(bigEndian: sin.sin_port)))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &s) { $0.load(as: sockaddr_in6.self) }
            let addr = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
            self.init(family: .v6, bytes: addr, port: Int(UInt16(bigEndian: sin6.sin6_port)))
        default:
            self = .unspecified
        }
    }

    package func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch family {
        case .v4:
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = UInt16(port).bigEndian
            withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
            return withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        case .v6, .unspecified:
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = UInt16(port).bigEndian
            if bytes.count == 16 { withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) } }
            return withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
    }
}

/// IP address parsing and formatting without `inet_pton` string bridging surprises.
package enum IPAddress {
    /// An IPv4 or IPv6 literal (an IPv6 zone is ignored), as 4 or 16 bytes.
    public static func parse(_ s: String) -> [UInt8]? { parseV4(s) ?? parseV6(s) }

    public static func parseV4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    public static func parseV6(_ s: String) -> [UInt8]? {
        var s = s
        if let pct = s.firstIndex(of: "%") { s = String(s[..<pct]) }  // zone
        guard s.contains(":") else { return nil }
        var addr = in6_addr()
        let ok = s.withCString { inet_pton(AF_INET6, $0, &addr) }
        guard ok == 1 else { return nil }
        return withUnsafeBytes(of: addr) { Array($0) }
    }

    public static func isV4Mapped(_ b: [UInt8]) -> Bool {
        b.count == 16 && b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff
    }

    public static func format(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        if isV4Mapped(b) { return b[12...].map(String.init).joined(separator: ".") }
        guard b.count == 16 else { return "" }
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: b) }
        var buf = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(AF_INET6, &addr, &buf, 64)
        let len = buf.firstIndex(of: 0) ?? buf.count
        return String(decoding: buf[..<len].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
