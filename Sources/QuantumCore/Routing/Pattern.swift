/// A regular expression from config (`path_regexp`, `header_regexp`, `search_regexp`).
///
/// The dialect is Swift's `Regex` syntax, which accepts the RE2 constructs Caddy configs use:
/// classes, anchors, repetition, alternation, `(?i)`, and named groups as `(?P<name>…)` or
/// `(?<name>…)`. Replacements expand `$1`, `${1}`, `$name` and `${name}` like Go's `Expand`.
/// `@unchecked Sendable`: immutable, and matching never mutates a `Regex` (it compiles once, atomically).
package struct Pattern: @unchecked Sendable, Decodable, CustomStringConvertible {
    public let source: String
    private let regex: Regex<AnyRegexOutput>
    /// Capture group names by index (index 0 is the whole match).
    public let groupNames: [String?]

    public init(_ source: String) throws {
        self.source = source
        let translated = source.replacing("(?P<", with: "(?<")
        do { regex = try Regex(translated) } catch { throw ConfigError(path: "", "invalid regular expression \"\(source)\": \(error)") }
        groupNames = Self.names(in: translated)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(s) } catch let e as ConfigError { throw decoder.error(e.message) }
    }

    public var description: String { source }

    /// The capture groups of the first match (index 0 = whole match), or nil.
    public func match(_ text: String) -> [String?]? {
        guard let m = try? regex.firstMatch(in: text) else { return nil }
        return (0..<m.output.count).map { i in m.output[i].substring.map(String.init) }
    }

    public func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }

    /// Replaces every match of the pattern in `text` with `template` (expanding `$1`, `${name}`).
    public func replaceAll(in text: String, with template: String) -> String {
        var out = ""
        var last = text.startIndex
        for m in text.matches(of: regex) {
            out += text[last..<m.range.lowerBound]
            let groups = (0..<m.output.count).map { i in m.output[i].substring.map(String.init) }
            out += expand(template, groups)
            last = m.range.upperBound
            if m.range.isEmpty {
                if last < text.endIndex { out.append(text[last]); last = text.index(after: last) } else { break }
            }
        }
        out += text[last...]
        return out
    }

    /// `template` with `$1`/`${name}` filled from the first match in `text`, as Go's
    /// `Regexp.ExpandString` (only the expansion, not the text around it); nil when nothing matches.
    package func expanded(_ template: String, firstMatchIn text: String) -> String? {
        guard let groups = match(text) else { return nil }
        return expand(template, groups)
    }

    func expand(_ template: String, _ groups: [String?]) -> String {
        var out = ""
        var chars = template[...]
        while let c = chars.first {
            chars.removeFirst()
            guard c == "$", let n = chars.first else { out.append(c); continue }
            if n == "$" { out.append("$"); chars.removeFirst(); continue }
            var name: Substring
            if n == "{" {
                guard let close = chars.firstIndex(of: "}") else { out.append(c); continue }
                name = chars[chars.index(after: chars.startIndex)..<close]
                chars = chars[chars.index(after: close)...]
            } else {
                let end = chars.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") } ?? chars.endIndex
                name = chars[..<end]
                chars = chars[end...]
                if name.isEmpty { out.append("$"); continue }
            }
            if let i = Int(name) { if i < groups.count { out += groups[i] ?? "" } }
            else if let i = groupNames.firstIndex(where: { $0 == String(name) }), i < groups.count { out += groups[i] ?? "" }
        }
        return out
    }

    /// Group names by capture index, read from the pattern text.
    private static func names(in pattern: String) -> [String?] {
        var names: [String?] = [nil]
        let chars = Array(pattern)
        var i = 0
        var inClass = false
        while i < chars.count {
            let c = chars[i]
            if c == "\\" { i += 2; continue }
            if inClass { if c == "]" { inClass = false }; i += 1; continue }
            if c == "[" { inClass = true; i += 1; continue }
            if c == "(" {
                if i + 1 < chars.count && chars[i + 1] == "?" {
                    if i + 2 < chars.count && chars[i + 2] == "<" && i + 3 < chars.count && chars[i + 3] != "=" && chars[i + 3] != "!" {
                        var j = i + 3
                        var name = ""
                        while j < chars.count && chars[j] != ">" { name.append(chars[j]); j += 1 }
                        names.append(name)
                    }
                } else {
                    names.append(nil)
                }
            }
            i += 1
        }
        return names
    }
}
