extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        if let d = decoder as? ValueDecoder { self = d.value; return }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(String(d)) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) }
    }
}

/// A Caddy duration: integer nanoseconds or a Go duration string (`"1m30s"`, `"250ms"`, `"1.5h"`, `"2d"`).
public struct CaddyDuration: Decodable, Sendable, Equatable, CustomStringConvertible {
    /// Nanoseconds, as Go's `time.Duration`; zero or negative usually means "none" to Caddy.
    public var nanoseconds: Int64

    /// For defaults and tests; configurations decode through `init(from:)`.
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    /// A duration from (fractional) seconds, e.g. `.seconds(0.5)`; sub-nanosecond parts are dropped.
    public static func seconds(_ s: Double) -> CaddyDuration { CaddyDuration(nanoseconds: Int64(s * 1e9)) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) { nanoseconds = n; return }
        let text: String
        do { text = try c.decode(String.self) } catch { throw decoder.error("expected a duration (nanoseconds or a string like \"1m30s\")") }
        guard let n = CaddyDuration.parse(text) else { throw decoder.error("invalid duration \"\(text)\"") }
        nanoseconds = n
    }

    /// Parses Go's duration syntax plus Caddy's `d` (days).
    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text)
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s.removeFirst() }
        if s == "0" { return 0 }
        guard !s.isEmpty else { return nil }
        var total = 0.0
        while !s.isEmpty {
            let numberEnd = s.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? s.endIndex
            guard numberEnd != s.startIndex, let value = Double(s[..<numberEnd]) else { return nil }
            s = s[numberEnd...]
            let unitEnd = s.firstIndex { $0.isASCII && ($0.isNumber || $0 == ".") } ?? s.endIndex
            let unit = s[..<unitEnd]
            s = s[unitEnd...]
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            case "d": scale = 86400e9
            default: return nil
            }
            total += value * scale
        }
        guard total < 9.2e18 else { return nil }
        return Int64(negative ? -total : total)
    }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }

    /// Refuses a negative value where Caddy gives it no meaning (an interval, a dial timeout);
    /// `path` names the field. Timeouts of Caddy's own (Go's) kind keep "negative: none".
    public func requireNonNegative(_ path: String) throws {
        if nanoseconds < 0 { throw ConfigError(path: path, "\(path) cannot be negative (\(self))") }
    }

    /// Nil for zero or negative (Caddy: no timeout).
    public var positiveNanos: UInt64? { nanoseconds > 0 ? UInt64(nanoseconds) : nil }
}

/// A number or a string (Caddy's `WeakString`, used for status codes that may be placeholders).
package struct WeakString: Decodable, Sendable, Equatable {
    public var value: String
    public init(_ value: String) { self.value = value }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { value = s; return }
        if let i = try? c.decode(Int.self) { value = String(i); return }
        throw decoder.error("expected a number or a string")
    }
}

/// A byte size: an integer or a string like `"10MB"`, `"1.5MiB"`, `"512k"`.
public struct ByteSize: Decodable, Sendable, Equatable {
    /// The size in bytes; never negative when decoded.
    public var bytes: Int
    /// For defaults and tests; configurations decode through `init(from:)`.
    public init(bytes: Int) { self.bytes = bytes }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            bytes = n
        } else {
            guard let s = try? c.decode(String.self), let n = ByteSize.parse(s) else { throw decoder.error("expected a size in bytes") }
            bytes = n
        }
        if bytes < 0 { throw decoder.error("a size cannot be negative") }
    }

    /// Nil for text it cannot read; `KB`/`MB`/`GB` are powers of 1000, `KiB`/`MiB`/`GiB` of 1024 (case-insensitive).
    public static func parse(_ text: String) -> Int? {
        let s = text.trimmingOWS()
        let numberEnd = s.firstIndex { !($0.isNumber || $0 == ".") } ?? s.endIndex
        guard let value = Double(s[..<numberEnd]) else { return nil }
        let unit = s[numberEnd...].trimmingOWS().asciiLowercased()
        let scale: Double
        switch unit {
        case "", "b": scale = 1
        case "k", "kb": scale = 1e3
        case "ki", "kib": scale = 1024
        case "m", "mb": scale = 1e6
        case "mi", "mib": scale = 1_048_576
        case "g", "gb": scale = 1e9
        case "gi", "gib": scale = 1_073_741_824
        case "t", "tb": scale = 1e12
        case "ti", "tib": scale = 1_099_511_627_776
        default: return nil
        }
        let bytes = value * scale
        // Too large for an Int is unreadable too, not a trap.
        guard bytes.isFinite, bytes < 9.2e18 else { return nil }
        return Int(bytes)
    }
}
