/// Go's `path.Match`: `*` (no `/`), `?`, `[...]` classes with ranges and `^` negation.
package enum Glob {
    public static func match(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
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

extension Glob {
    /// Matches a whole string against a pattern (no `/` crossing for `*` and `?`).
    public static func match(_ pattern: String, _ name: String) -> Bool {
        match(Array(pattern.utf8)[...], Array(name.utf8)[...])
    }
}
