/// Tokens of the CEL subset the `expression` matcher understands.
enum ExpressionToken: Equatable {
    case identifier(String)
    case string(String)
    case int(Int64)
    case double(Double)
    /// `{name}`: a Caddy placeholder, read when the request is matched.
    case placeholder(String)
    case symbol(String)
}

/// Splits an expression into tokens; `{name}` (a letter then letters, digits, `_`, `.`, `-`) is a
/// placeholder, any other `{` opens a map.
struct ExpressionLexer {
    struct Failure: Error { let message: String }

    static func tokenize(_ text: String) throws -> [ExpressionToken] {
        let s = Array(text.unicodeScalars)
        var i = 0
        var out: [ExpressionToken] = []
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isIdent(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) }
        while i < s.count {
            let c = s[i]
            if c.properties.isWhitespace { i += 1; continue }
            if c == "{", i + 1 < s.count, isIdentStart(s[i + 1]) {
                var j = i + 1
                while j < s.count, isIdent(s[j]) || s[j] == "." || s[j] == "-" { j += 1 }
                if j < s.count, s[j] == "}" {
                    out.append(.placeholder(String(String.UnicodeScalarView(s[(i + 1)..<j]))))
                    i = j + 1
                    continue
                }
            }
            if isIdentStart(c) {
                var j = i
                while j < s.count, isIdent(s[j]) { j += 1 }
                out.append(.identifier(String(String.UnicodeScalarView(s[i..<j]))))
                i = j
                continue
            }
            if ("0"..."9").contains(c) {
                var j = i
                var isDouble = false
                while j < s.count, ("0"..."9").contains(s[j]) || (s[j] == "." && !isDouble && j + 1 < s.count && ("0"..."9").contains(s[j + 1])) {
                    if s[j] == "." { isDouble = true }
                    j += 1
                }
                let literal = String(String.UnicodeScalarView(s[i..<j]))
                if isDouble {
                    guard let d = Double(literal) else { throw Failure(message: "bad number \(literal)") }
                    out.append(.double(d))
                } else {
                    guard let n = Int64(literal) else { throw Failure(message: "integer out of range: \(literal)") }
                    out.append(.int(n))
                }
                if j < s.count, s[j] == "u" { j += 1 }  // CEL's unsigned suffix: read as a plain integer
                i = j
                continue
            }
            if c == "\"" || c == "'" || c == "`" {
                var j = i + 1
                var value = String.UnicodeScalarView()
                var closed = false
                while j < s.count {
                    let d = s[j]
                    if d == c { closed = true; j += 1; break }
                    if d == "\\" && c != "`", j + 1 < s.count {
                        let e = s[j + 1]
                        j += 2
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "a": value.append("\u{07}")
                        case "b": value.append("\u{08}")
                        case "f": value.append("\u{0C}")
                        case "v": value.append("\u{0B}")
                        case "\\", "\"", "'", "`", "?": value.append(e)
                        case "x", "u", "U":
                            let digits = e == "x" ? 2 : e == "u" ? 4 : 8
                            guard j + digits <= s.count, let code = UInt32(String(String.UnicodeScalarView(s[j..<(j + digits)])), radix: 16),
                                  let scalar = Unicode.Scalar(code) else { throw Failure(message: "bad \\\(e) escape") }
                            value.append(scalar)
                            j += digits
                        default: throw Failure(message: "unknown escape \\\(e)")
                        }
                        continue
                    }
                    value.append(d)
                    j += 1
                }
                guard closed else { throw Failure(message: "unterminated string") }
                out.append(.string(String(value)))
                i = j
                continue
            }
            let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                out.append(.symbol(two))
                i += 2
                continue
            }
            if "<>!+-*/%?:,.()[]{}".unicodeScalars.contains(c) {
                out.append(.symbol(String(c)))
                i += 1
                continue
            }
            throw Failure(message: "unexpected character '\(c)'")
        }
        return out
    }
}
