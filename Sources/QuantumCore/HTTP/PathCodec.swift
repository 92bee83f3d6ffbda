/// Percent-decoding and path cleaning, byte-level.
package enum PathCodec {
    /// Decodes `%XX`; nil when an escape is malformed. Returns the input when it has none.
    /// Bytes that are not UTF-8 become U+FFFD (Caddy keeps Go's raw bytes; names on disk need
    /// the strict `unescapeUTF8`).
    public static func unescape(_ s: String, plusAsSpace: Bool = false) -> String? {
        let utf8 = s.utf8
        guard utf8.contains(UInt8(ascii: "%")) || (plusAsSpace && utf8.contains(UInt8(ascii: "+"))) else { return s }
        return unescapeBytes(s, plusAsSpace: plusAsSpace).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Decodes `%XX` strictly: nil for a malformed escape, or for bytes that are not UTF-8
    /// (`%ff`, overlong forms), so two different names never decode to the same one.
    public static func unescapeUTF8(_ s: String, plusAsSpace: Bool = false) -> String? {
        let utf8 = s.utf8
        guard utf8.contains(UInt8(ascii: "%")) || (plusAsSpace && utf8.contains(UInt8(ascii: "+"))) else { return s }
        return unescapeBytes(s, plusAsSpace: plusAsSpace).flatMap { String(validating: $0, as: UTF8.self) }
    }

    private static func unescapeBytes(_ s: String, plusAsSpace: Bool) -> [UInt8]? {
        let utf8 = s.utf8
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard let h = it.popFirst(), let l = it.popFirst(), let hv = Token.hexValue(h), let lv = Token.hexValue(l) else { return nil }
                out.append(UInt8(hv << 4 | lv))
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                out.append(32)
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// Escapes what may not appear raw in a path.
    public static func escapePath(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"),
                 UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
                 UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
                 UInt8(ascii: "@"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// Lexically cleans an absolute path like Go's `path.Clean`: merges slashes, resolves `.`
    /// and `..` (never above `/`), and keeps a trailing slash when `keepTrailingSlash`.
    public static func clean(_ path: String, keepTrailingSlash: Bool = true) -> String {
        if path.isEmpty { return "/" }
        let utf8 = path.utf8
        // Fast path: nothing to clean.
        var needs = utf8.first != UInt8(ascii: "/")
        var prev: UInt8 = 0
        var dotRun = 0
        if !needs {
            for b in utf8 {
                if b == UInt8(ascii: "/") {
                    if prev == UInt8(ascii: "/") || (dotRun > 0 && dotRun <= 2) { needs = true; break }
                    dotRun = 0
                } else if b == UInt8(ascii: ".") {
                    if prev == UInt8(ascii: "/") || dotRun > 0 { dotRun += 1 }
                } else {
                    dotRun = -1000
                }
                prev = b
            }
            if dotRun > 0 && dotRun <= 2 { needs = true }
        }
        if !needs { return path }
        var parts: [Substring] = []
        for seg in path.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(seg)
        }
        var out = "/" + parts.joined(separator: "/")
        let last = path.split(separator: "/", omittingEmptySubsequences: false).last
        if keepTrailingSlash && path.hasSuffix("/") && out != "/" { out += "/" }
        else if keepTrailingSlash && (last == "." || last == "..") && out != "/" { out += "/" }
        return out
    }
}

/// `application/x-www-form-urlencoded` query strings.
package enum QueryString {
    public static func pairs(_ query: String) -> [(String, String)] {
        var out: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let k = PathCodec.unescape(String(kv[0]), plusAsSpace: true) ?? String(kv[0])
            let v = kv.count > 1 ? (PathCodec.unescape(String(kv[1]), plusAsSpace: true) ?? String(kv[1])) : ""
            out.append((k, v))
        }
        return out
    }

    public static func values(of key: String, in query: String) -> [String] {
        pairs(query).compactMap { $0.0 == key ? $0.1 : nil }
    }

    public static func encode(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case 32: out += "+"
            default: out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    public static func build(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
