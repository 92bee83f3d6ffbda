import QuantumCore

/// A named regular expression (`{"name": "n", "pattern": "..."}`) whose captures become
/// `{http.regexp.NAME.N}` and `{http.regexp.NAME.GROUP}` placeholders.
public struct NamedPattern: Decodable, Sendable {
    public var name: String?
    package var pattern: Pattern

    enum CodingKeys: String, CodingKey, CaseIterable { case name, pattern }

    /// Tests `text` and records captures in `context` on a match: like Caddy, under
    /// `http.regexp.NAME.*` when the pattern is named, and always under `http.regexp.*`.
    func match(_ text: String, context: inout Context) -> Bool {
        guard let groups = pattern.match(text) else { return false }
        let prefixes = name.map { ["http.regexp.\($0).", "http.regexp."] } ?? ["http.regexp."]
        for prefix in prefixes {
            for (i, g) in groups.enumerated() {
                context.placeholders[prefix + String(i)] = g ?? ""
                if i > 0, i < pattern.groupNames.count, let n = pattern.groupNames[i] { context.placeholders[prefix + n] = g ?? "" }
            }
        }
        return true
    }
}

/// `path_regexp`: a regular expression on the decoded path.
public struct PathRegexpMatcher: MatcherModule {
    public static let moduleID = "http.matchers.path_regexp"
    public var regexp: NamedPattern

    public init(from decoder: any Decoder) throws { regexp = try NamedPattern(from: decoder) }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        regexp.match(PathCodec.clean(request.path), context: &context)
    }
}

/// `header_regexp`: a regular expression per header field (all must match).
public struct HeaderRegexpMatcher: MatcherModule {
    public static let moduleID = "http.matchers.header_regexp"
    public var fields: [String: NamedPattern]

    public init(from decoder: any Decoder) throws { fields = try decoder.singleValueContainer().decode([String: NamedPattern].self) }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        for (name, pattern) in fields.sorted(by: { $0.key < $1.key }) {
            // Like Caddy: each value of a repeated field is tried on its own.
            let values = name.equalsIgnoringASCIICase("host") ? [request.host] : request.headers.values(name)
            guard values.contains(where: { pattern.match($0, context: &context) }) else { return false }
        }
        return true
    }
}

/// `vars_regexp`: a regular expression on variables (`{"who": {...}}`) or placeholders
/// (`{"{http.request.host}": {...}}`); one match is enough. As Caddy 2.6.2: the variable's
/// value is tried (an unset one reads as `<nil>`, Go's `%v` of nothing), then the key rendered
/// as a placeholder.
public struct VarsRegexpMatcher: MatcherModule {
    public static let moduleID = "http.matchers.vars_regexp"
    public var fields: [String: NamedPattern]
    /// The fields in order, each key also as a placeholder template (parsed once).
    private let ordered: [(key: String, asPlaceholder: Template, pattern: NamedPattern)]

    public init(from decoder: any Decoder) throws {
        fields = try decoder.singleValueContainer().decode([String: NamedPattern].self)
        ordered = fields.sorted { $0.key < $1.key }.map { ($0.key, Template($0.key), $0.value) }
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        for field in ordered {
            if field.pattern.match(Template(context.vars[field.key] ?? "<nil>").render(request, context), context: &context) { return true }
            if field.pattern.match(field.asPlaceholder.render(request, context), context: &context) { return true }
        }
        return false
    }
}
