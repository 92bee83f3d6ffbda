import QuantumCore

/// `path`: Caddy's path patterns on the cleaned, decoded path, case-insensitively.
///
/// `*` alone matches everything; `/prefix*`, `*suffix` and `*substring*` are fast cases;
/// other patterns are globs where `*` and `?` do not cross `/` (Go's `path.Match`).
public struct PathMatcher: MatcherModule {
    public static let moduleID = "http.matchers.path"

    public var patterns: [String]
    private var compiled: [Compiled] = []

    enum Compiled: Sendable {
        case any, exact(String), prefix(String), suffix(String), contains(String), glob([UInt8]), escaped(String), template(Template)
    }

    public init(_ patterns: [String]) {
        self.patterns = patterns
        compiled = patterns.map(Self.compile)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String].self))
    }

    static func compile(_ raw: String) -> Compiled {
        if !Template(raw).isConstant { return .template(Template(raw)) }
        let p = raw.asciiLowercased()
        if p == "*" { return .any }
        if p.contains("%") { return .escaped(p) }
        let stars = p.filter { $0 == "*" }.count
        let hasGlob = p.contains("?") || p.contains("[")
        if !hasGlob {
            if stars == 0 { return .exact(p) }
            if stars == 1 && p.hasSuffix("*") { return .prefix(String(p.dropLast())) }
            if stars == 1 && p.hasPrefix("*") { return .suffix(String(p.dropFirst())) }
            if stars == 2 && p.hasPrefix("*") && p.hasSuffix("*") && p.count > 2 { return .contains(String(p.dropFirst().dropLast())) }
        }
        return .glob(Array(p.utf8))
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        let cleaned = PathCodec.clean(request.path).asciiLowercased()
        for c in compiled where Self.match(c, cleaned, request, context) { return true }
        return false
    }

    private static func match(_ c: Compiled, _ path: String, _ request: Request, _ context: Context) -> Bool {
        switch c {
        case .any: return true
        case .exact(let p): return path == p
        case .prefix(let p): return path.hasPrefix(p)
        case .suffix(let p): return path.hasSuffix(p)
        case .contains(let p): return path.contains(p)
        case .glob(let p): return Glob.match(p[...], Array(path.utf8)[...])
        case .escaped(let p): return Glob.match(Array(p.utf8)[...], Array(request.rawPath.asciiLowercased().utf8)[...])
        case .template(let t): return match(compile(t.render(request, context)), path, request, context)
        }
    }
}

/// Go's `path.Match`: `*` (no `/`), `?`, `[...]` classes with ranges and `^` negation.
enum Glob {
    static func match(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        var p = pattern, n = name
        while let c = p.first {
            switch c {
            case UInt8(ascii: "*"):
                var rest = p.dropFirst()
                while rest.first == UInt8(ascii: "*") { rest = rest.dropFirst() }
                if rest.isEmpty { return !n.contains(UInt8(ascii: "/")) }
                var i = n.startIndex
                while true {
                    if match(rest, n[i...]) { return true }
                    if i == n.endIndex || n[i] == UInt8(ascii: "/") { return false }
                    i += 1
                }
            case UInt8(ascii: "?"):
                guard let f = n.first, f != UInt8(ascii: "/") else { return false }
                p = p.dropFirst(); n = n.dropFirst()
            case UInt8(ascii: "["):
                guard let f = n.first, let end = p.firstIndex(of: UInt8(ascii: "]")) else { return false }
                var cls = p[(p.startIndex + 1)..<end]
                let negate = cls.first == UInt8(ascii: "^")
                if negate { cls = cls.dropFirst() }
                var hit = false
                var i = cls.startIndex
                while i < cls.endIndex {
                    if i + 2 < cls.endIndex, cls[i + 1] == UInt8(ascii: "-") {
                        if cls[i] <= f && f <= cls[i + 2] { hit = true }
                        i += 3
                    } else {
                        if cls[i] == f { hit = true }
                        i += 1
                    }
                }
                if hit == negate { return false }
                p = p[(end + 1)...]; n = n.dropFirst()
            case UInt8(ascii: "\\"):
                p = p.dropFirst()
                guard let lit = p.first, n.first == lit else { return false }
                p = p.dropFirst(); n = n.dropFirst()
            default:
                guard n.first == c else { return false }
                p = p.dropFirst(); n = n.dropFirst()
            }
        }
        return n.isEmpty
    }
}
