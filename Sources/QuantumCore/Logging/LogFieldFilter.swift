/// One of the `filter` encoder's field filters (Caddy's `caddy.logging.encoders.filter.*`): what
/// happens to a field's value before it is written. A nil result drops the field.
package enum LogFieldFilter: Sendable {
    case delete
    case replace(String)
    /// Keeps the first `v4`/`v6` bits of each IP address in the value (`"1.2.3.4, 5.6.7.8:80"` too).
    case ipMask(v4: Int, v6: Int)
    /// Edits query parameters of a URI; the query is then re-encoded as Go's `url.Values` does.
    case query([Action])
    /// Edits cookies of a `Cookie` header; they are then joined into one value.
    case cookie([Action])
    case regexp(Pattern, String)
    /// The first 4 bytes of the value's SHA-256, in hex.
    case hash

    /// A `query` or `cookie` action on the parameter or cookie `name`.
    package struct Action: Sendable {
        package enum Kind: String, Sendable { case replace, hash, delete }
        let kind: Kind
        let name: String
        let value: String
    }

    /// A string field's value after the filter.
    func apply(_ value: String) -> String? {
        switch self {
        case .delete: return nil
        case .replace(let replacement): return replacement
        case .ipMask(let v4, let v6): return Self.mask(value, v4: v4, v6: v6)
        case .query(let actions): return Self.filterQuery(value, actions)
        case .cookie: return value
        case .regexp(let pattern, let replacement): return pattern.replaceAll(in: value, with: replacement)
        case .hash: return Self.hash(value)
        }
    }

    /// An array field's values (header values) after the filter; nil drops the field, and
    /// `replace` makes it one string (as Caddy's does).
    func apply(values: [String]) -> (values: [String], asString: Bool)? {
        switch self {
        case .delete: return nil
        case .replace(let replacement): return ([replacement], true)
        case .cookie(let actions): return ([Self.filterCookies(values, actions)], false)
        case .query: return (values, false)
        case .ipMask, .regexp, .hash: return (values.map { apply($0) ?? $0 }, false)
        }
    }

    // MARK: - Filters

    static func hash(_ value: String) -> String { Digest.hex(Array(Digest.sha256(Array(value.utf8)).prefix(4))) }

    static func mask(_ value: String, v4: Int, v6: Int) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false).map { part -> String in
            let item = String(part.trimmingOWS())
            var host = item, port: Substring?
            if item.hasPrefix("["), let close = item.firstIndex(of: "]"), item[item.index(after: close)...].hasPrefix(":") {
                host = String(item[item.index(after: item.startIndex)..<close])
                port = item[item.index(close, offsetBy: 2)...]
            } else if item.filter({ $0 == ":" }).count == 1, let colon = item.firstIndex(of: ":") {
                host = String(item[..<colon])
                port = item[item.index(after: colon)...]
            }
            guard var bytes = IPAddress.parseV4(host) ?? IPAddress.parseV6(host) else { return item }
            let bits = bytes.count == 4 ? v4 : v6
            for i in bytes.indices {
                let keep = max(0, min(8, bits - i * 8))
                bytes[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
            let masked = IPAddress.format(bytes)
            guard let port else { return masked }
            return (bytes.count == 16 ? "[\(masked)]" : masked) + ":" + port
        }.joined(separator: ", ")
    }

    /// Go's `url.Values` round trip: parameters decoded, actions applied, then encoded sorted by name.
    static func filterQuery(_ uri: String, _ actions: [Action]) -> String {
        guard let q = uri.firstIndex(of: "?") else { return uri }
        var values: [(String, String)] = []
        for pair in uri[uri.index(after: q)...].split(separator: "&") where !pair.contains(";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescapeQuery(parts[0]), let value = unescapeQuery(parts.count > 1 ? parts[1] : "") else { continue }
            values.append((name, value))
        }
        for action in actions {
            switch action.kind {
            case .replace: for i in values.indices where values[i].0 == action.name { values[i].1 = action.value }
            case .hash: for i in values.indices where values[i].0 == action.name { values[i].1 = hash(values[i].1) }
            case .delete: values.removeAll { $0.0 == action.name }
            }
        }
        // Sorted by name; a name's values keep their order.
        let order = values.enumerated().sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
        let query = order.map { escapeQuery($0.element.0) + "=" + escapeQuery($0.element.1) }.joined(separator: "&")
        let path = String(uri[..<q])
        return query.isEmpty ? path : path + "?" + query
    }

    /// Cookies parsed as Go's `Request.Cookies`, actions applied, joined as `AddCookie` joins them.
    static func filterCookies(_ headerValues: [String], _ actions: [Action]) -> String {
        var out: [String] = []
        for header in headerValues {
            for part in header.split(separator: ";") {
                let pair = part.trimmingOWS()
                guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { continue }
                let name = String(pair[..<eq])
                var value = String(pair[pair.index(after: eq)...])
                if let action = actions.first(where: { $0.name == name }) {
                    switch action.kind {
                    case .replace: value = action.value
                    case .hash: value = hash(value)
                    case .delete: continue
                    }
                }
                out.append(name + "=" + value)
            }
        }
        return out.joined(separator: "; ")
    }

    private static func unescapeQuery(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var i = text.utf8.startIndex
        let utf8 = text.utf8
        while i < utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "+") {
                bytes.append(32)
            } else if b == UInt8(ascii: "%") {
                let h1 = utf8.index(after: i)
                guard h1 < utf8.endIndex, utf8.index(after: h1) < utf8.endIndex,
                      let hi = hexValue(utf8[h1]), let lo = hexValue(utf8[utf8.index(after: h1)]) else { return nil }
                bytes.append(hi << 4 | lo)
                i = utf8.index(after: h1)
            } else {
                bytes.append(b)
            }
            i = utf8.index(after: i)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }

    /// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
    private static func escapeQuery(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case 48...57, 65...90, 97...122, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case 32: out += "+"
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}

/// A `filter` encoder's filters by field path (`request>headers>Authorization`).
package final class LogFilters: Sendable {
    let byPath: [String: LogFieldFilter]
    init(_ byPath: [String: LogFieldFilter]) { self.byPath = byPath }
}
