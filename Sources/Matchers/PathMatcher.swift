import Glibc
import QuantumCore

/// `path`: Caddy's path patterns on the cleaned, decoded path, case-insensitively.
///
/// `*` alone matches everything; `/prefix*`, `*suffix` and `*substring*` are fast cases;
/// other patterns are globs where `*` and `?` do not cross `/` (Go's `path.Match`). Slashes in
/// the path are merged unless the pattern has `//`. A pattern with `%` compares those parts in
/// escaped form (`%2F` is not `/`), and `%*` is a wildcard span that is not decoded.
public struct PathMatcher: MatcherModule {
    public static let moduleID = "http.matchers.path"

    public var patterns: [String]
    private var compiled: [Compiled] = []

    enum Kind: Sendable {
        case any, exact(String), prefix(String), suffix(String), contains(String), glob([UInt8]), escaped([UInt8]), template(Template)
    }

    /// A pattern prepared at load: its kind, and whether the path's slashes are merged for it
    /// (all patterns but those containing `//`).
    struct Compiled: Sendable {
        let kind: Kind
        let mergeSlashes: Bool
    }

    public init(_ patterns: [String]) {
        self.patterns = patterns
        compiled = patterns.map(Self.compile)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String].self))
    }

    static func compile(_ raw: String) -> Compiled {
        let merge = !raw.contains("//")
        if !Template(raw).isConstant { return Compiled(kind: .template(Template(raw)), mergeSlashes: merge) }
        let p = lowercased(raw)
        let kind: Kind
        let stars = p.filter { $0 == "*" }.count
        if p == "*" { kind = .any }
        else if p.contains("%") { kind = .escaped(Array(p.utf8)) }
        else if stars == 2 && p.hasPrefix("*") && p.hasSuffix("*") { kind = .contains(String(p.dropFirst().dropLast())) }
        else if stars == 1 && p.hasPrefix("*") { kind = .suffix(String(p.dropFirst())) }
        else if stars == 1 && p.hasSuffix("*") { kind = .prefix(String(p.dropLast())) }
        else if stars == 0 && !p.contains(where: { $0 == "?" || $0 == "[" || $0 == "\\" }) { kind = .exact(p) }
        else { kind = .glob(Array(p.utf8)) }
        return Compiled(kind: kind, mergeSlashes: merge)
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        var merged: String?
        return compiled.withUnsafeBufferPointer { all in
            for i in all.indices where Self.match(all[i], request, context, &merged) { return true }
            return false
        }
    }

    private static func match(_ c: Compiled, _ request: Request, _ context: Context, _ merged: inout String?) -> Bool {
        /// The decoded, lowercased path, cleaned the way the pattern needs (computed once).
        func path() -> String {
            if isClean(request.rawPath) { return request.rawPath }
            if c.mergeSlashes {
                if let merged { return merged }
                merged = PathCodec.clean(lowercased(request.path))
                return merged!
            }
            return cleanKeepingDoubleSlashes(lowercased(request.path))
        }
        switch c.kind {
        case .any: return true
        // Bytes, as Go compares strings (String's `==` would equate canonically equivalent forms).
        case .exact(let p): let s = path(); return s.utf8.count == p.utf8.count && hasPrefix(s, p)
        case .prefix(let p): return hasPrefix(path(), p)
        case .suffix(let p): return hasSuffix(path(), p)
        case .contains(let p): return p.isEmpty || path().contains(p)
        case .glob(let p): return Glob.match(p[...], Array(path().utf8)[...])
        case .escaped(let p):
            let raw = c.mergeSlashes ? PathCodec.clean(request.rawPath) : cleanKeepingDoubleSlashes(request.rawPath)
            return EscapedGlob.match(p, Array(raw.utf8))
        case .template(let t): return match(compile(t.render(request, context)), request, context, &merged)
        }
    }

    /// True when the raw path is already decoded, lowercase and clean — the common case, matched
    /// as it is: ASCII without `%` or capitals, starting with `/`, no `//` and no segment
    /// starting with a dot.
    static func isClean(_ rawPath: String) -> Bool {
        // Through a pointer: iterating `String.UTF8View` costs several times more per byte.
        rawPath.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.first == UInt8(ascii: "/") else { return false }
            var previous: UInt8 = 0
            for b in bytes {
                if b >= 0x80 || b == UInt8(ascii: "%") || (b >= 65 && b <= 90) { return false }
                if previous == UInt8(ascii: "/") && (b == UInt8(ascii: "/") || b == UInt8(ascii: ".")) { return false }
                previous = b
            }
            return true
        } ?? false
    }

    /// Byte comparisons, as Go compares strings (String's own would equate canonically
    /// equivalent forms, and walk grapheme clusters to do so).
    static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        var s = s, prefix = prefix
        return s.withUTF8 { a in prefix.withUTF8 { b in a.count >= b.count && (b.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, b.count) == 0) } }
    }

    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        var s = s, suffix = suffix
        return s.withUTF8 { a in
            suffix.withUTF8 { b in a.count >= b.count && (b.isEmpty || memcmp(a.baseAddress! + (a.count - b.count), b.baseAddress!, b.count) == 0) }
        }
    }

    /// Lowercases like Go's `strings.ToLower`: ASCII fast, Unicode when the text has any.
    static func lowercased(_ s: String) -> String {
        var ascii = true
        for b in s.utf8 where b >= 0x80 { ascii = false; break }
        return ascii ? s.asciiLowercased() : s.lowercased()
    }

    /// Cleans `.` and `..` segments but keeps runs of slashes (Caddy's `CleanPath(p, false)`).
    static func cleanKeepingDoubleSlashes(_ path: String) -> String {
        guard path.contains("//") else { return PathCodec.clean(path) }
        // Mark the empty segments between consecutive slashes so cleaning keeps them.
        let marker: Character = "\u{FFFF}"
        var marked = ""
        var previous: Character?
        for c in path {
            if c == "/" && previous == "/" { marked.append(marker) }
            marked.append(c)
            previous = c
        }
        return String(PathCodec.clean(marked).filter { $0 != marker })
    }
}

/// Caddy's matching of path patterns that contain `%`: the escaped request path is decoded
/// except where the pattern has an escape (`%2f` compares with the escaped bytes) or the
/// wildcard `%*` (a span kept escaped); the result is then matched as a glob.
enum EscapedGlob {
    static func match(_ pattern: [UInt8], _ escapedPath: [UInt8]) -> Bool {
        let percent = UInt8(ascii: "%"), star = UInt8(ascii: "*")
        var built: [UInt8] = []
        var ip = 0, ipath = 0
        /// One unit of the path at `ipath`: an escape sequence or a byte. (raw bytes, decoded byte)
        func unit() -> (raw: ArraySlice<UInt8>, decoded: UInt8)? {
            if escapedPath[ipath] == percent {
                guard ipath + 2 < escapedPath.count, let h = hex(escapedPath[ipath + 1]), let l = hex(escapedPath[ipath + 2]) else { return nil }
                return (escapedPath[ipath..<ipath + 3], h << 4 | l)
            }
            return (escapedPath[ipath..<ipath + 1], escapedPath[ipath])
        }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while ip < pattern.count && ipath < escapedPath.count {
            let isEscape = pattern[ip] == percent && ip + 2 < pattern.count && pattern[ip + 1] != star
            let isRawStar = pattern[ip] == percent && ip + 1 < pattern.count && pattern[ip + 1] == star
            if isRawStar || pattern[ip] == star {
                if isRawStar { ip += 1 }
                // A wildcard span: up to the pattern's next byte (or the end), decoded unless `%*`.
                var end = escapedPath.count
                if ip + 1 < pattern.count {
                    guard let next = escapedPath[ipath...].firstIndex(of: pattern[ip + 1]) else { return false }
                    end = next
                }
                let span = escapedPath[ipath..<end]
                if isRawStar {
                    built += span
                } else {
                    guard let decoded = PathCodec.unescape(String(decoding: span, as: UTF8.self)) else { return false }
                    built += Array(decoded.utf8)
                }
                ipath = end
                ip += 1
                continue
            }
            guard let (raw, decoded) = unit() else { return false }
            if isEscape {
                built += raw
                ip += 3
            } else {
                built.append(decoded)
                ip += 1
            }
            ipath += raw.count
        }
        built += escapedPath[ipath...]
        var globPattern: [UInt8] = []
        var i = 0
        while i < pattern.count {
            if pattern[i] == percent && i + 1 < pattern.count && pattern[i + 1] == star { i += 1; continue }
            globPattern.append(pattern[i])
            i += 1
        }
        let lowered = built.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
        return Glob.match(globPattern[...], lowered[...])
    }
}

