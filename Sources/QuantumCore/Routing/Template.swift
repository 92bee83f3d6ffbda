/// A string with Caddy placeholders (`"/{http.request.uri.path}.html"`), parsed once at load.
///
/// Braces are escaped as `\{` and `\}`. An unclosed `{` is literal text.
public struct Template: Sendable, Decodable, Equatable, CustomStringConvertible {
    enum Part: Sendable, Equatable { case literal(String), placeholder(String) }

    /// What an unknown placeholder becomes: Caddy's `ReplaceAll` (empty) or `ReplaceKnown` (kept).
    public enum Unknown: Sendable { case empty, keep }

    let parts: [Part]
    /// The text as written in the config, escapes and all.
    public let source: String

    /// Parses `source` once; rendering then costs no parsing. Never fails: what is not a placeholder is literal.
    public init(_ source: String) {
        self.source = source
        var parts: [Part] = []
        var literal = ""
        var chars = Array(source.unicodeScalars)[...]
        while let c = chars.popFirst() {
            if c == "\\", let n = chars.first, n == "{" || n == "}" {
                literal.unicodeScalars.append(n); chars.removeFirst(); continue
            }
            if c == "{", let close = chars.firstIndex(of: "}"), !chars[..<close].contains("{") {
                let name = String(String.UnicodeScalarView(chars[..<close]))
                if !name.isEmpty && !name.contains(where: { $0 == " " || $0 == "\n" || $0 == "\"" }) {
                    if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                    parts.append(.placeholder(name))
                    chars = chars[chars.index(after: close)...]
                    continue
                }
            }
            literal.unicodeScalars.append(c)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    /// True when the template has no placeholders.
    public var isConstant: Bool { !parts.contains { if case .placeholder = $0 { true } else { false } } }

    public var description: String { source }

    /// Fills the placeholders for this request; pass `response` to make `{http.response.*}` resolvable.
    public func render(_ request: Request, _ context: Context, unknown: Unknown = .empty, response: Response? = nil) -> String {
        if parts.count == 1, case .literal(let s) = parts[0] { return s }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let s): out += s
            case .placeholder(let name):
                if let v = Placeholders.resolve(name, request: request, context: context, response: response) { out += v }
                else if unknown == .keep { out += "{" + name + "}" }
            }
        }
        return out
    }
}
