/// Caddy's simple wildcards for header names and values: `*`, `prefix*`, `*suffix`,
/// `*substring*`, or an exact string.
package enum Wildcard {
    public static func match(_ pattern: String, _ value: String, ignoringCase: Bool = false) -> Bool {
        let p = ignoringCase ? pattern.asciiLowercased() : pattern
        let v = ignoringCase ? value.asciiLowercased() : value
        if p == "*" { return true }
        if p.count > 1 && p.hasPrefix("*") && p.hasSuffix("*") { return v.contains(p.dropFirst().dropLast()) }
        if p.hasPrefix("*") { return v.hasSuffix(p.dropFirst()) }
        if p.hasSuffix("*") { return v.hasPrefix(p.dropLast()) }
        return v == p
    }
}
