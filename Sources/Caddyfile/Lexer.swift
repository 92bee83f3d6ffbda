/// Splits Caddyfile text into tokens exactly as Caddy's lexer does: whitespace separates tokens,
/// `"..."` and `` `...` `` quote, `\` escapes (kept in the text except before a quote inside
/// double quotes, and a `\` before a line break continues the line), `#` starts a comment only at
/// the start of a token, and `<<MARKER` opens a heredoc.
struct Lexer {
    struct LexError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { message }
    }

    static func tokenize(_ text: String, file: String) throws -> [Token] {
        var lexer = Lexer(scalars: Array(text.unicodeScalars), file: file)
        var tokens: [Token] = []
        while let token = try lexer.next() { tokens.append(token) }
        return tokens
    }

    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var skippedLines = 0

    private init(scalars: [Unicode.Scalar], file: String) {
        self.scalars = scalars
        self.file = file
    }

    private mutating func next() throws -> Token? {
        // An array, not a String view: counting and suffix checks stay O(1) per character.
        var value: [Unicode.Scalar] = []
        var comment = false, quoted = false, backtick = false, escaped = false
        var inHeredoc = false, heredocMarker = "", markerScalars: [Unicode.Scalar] = []
        var startLine = line

        func token(_ quote: Character?) -> Token { Token(text: String(String.UnicodeScalarView(value)), file: file, line: startLine, quote: quote) }

        while index < scalars.count {
            let ch = scalars[index]
            index += 1

            // A heredoc opener: `<<MARKER` followed by a line break.
            if !quoted, !backtick, !inHeredoc, value.count > 1, value[0] == "<", value[1] == "<" {
                if ch == " " { return token(nil) }
                if ch == "\r" { continue }
                if ch == "\n" {
                    let marker = String(String.UnicodeScalarView(value[2...]))
                    if marker.isEmpty {
                        throw LexError(line: line, message: "missing opening heredoc marker on line #\(line); must contain only alpha-numeric characters, dashes and underscores; got empty string")
                    }
                    if marker.hasPrefix("<") {
                        throw LexError(line: line, message: "too many '<' for heredoc on line #\(line); only use two, for example <<END")
                    }
                    if !marker.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) {
                        throw LexError(line: line, message: "heredoc marker on line #\(line) must contain only alpha-numeric characters, dashes and underscores; got '\(marker)'")
                    }
                    heredocMarker = marker
                    markerScalars = Array(marker.unicodeScalars)
                    inHeredoc = true
                    skippedLines += 1
                    value = []
                    continue
                }
                value.append(ch)
                continue
            }
            if inHeredoc {
                if ch == "\r" { continue }  // as Caddy: line ends are LF in a heredoc's text
                value.append(ch)
                if ch == "\n" { skippedLines += 1 }
                if value.count >= markerScalars.count && value[(value.count - markerScalars.count)...].elementsEqual(markerScalars) {
                    let finished = try finishHeredoc(String(String.UnicodeScalarView(value)), marker: heredocMarker, openedOn: startLine)
                    line += skippedLines
                    skippedLines = 0
                    return Token(text: finished, file: file, line: startLine, quote: "<")
                }
                continue
            }

            if !escaped && !backtick && ch == "\\" {
                escaped = true
                continue
            }
            if quoted || backtick {
                if quoted && escaped {
                    // Inside double quotes only a quote is escaped; other backslashes stay.
                    if ch != "\"" { value.append("\\") }
                    escaped = false
                } else if quoted && ch == "\"" {
                    return token("\"")
                } else if backtick && ch == "`" {
                    return token("`")
                }
                if ch == "\n" {
                    line += 1 + skippedLines
                    skippedLines = 0
                }
                value.append(ch)
                continue
            }
            if ch.properties.isWhitespace {
                if ch == "\r" { continue }
                if ch == "\n" {
                    if escaped {
                        skippedLines += 1
                        escaped = false
                    } else {
                        line += 1 + skippedLines
                        skippedLines = 0
                    }
                    comment = false
                }
                if !value.isEmpty { return token(nil) }
                continue
            }
            if ch == "#" && value.isEmpty { comment = true }
            if comment { continue }
            if value.isEmpty {
                startLine = line
                if ch == "\"" { quoted = true; continue }
                if ch == "`" { backtick = true; continue }
            }
            if escaped {
                value.append("\\")
                escaped = false
            }
            value.append(ch)
        }
        if inHeredoc {
            throw LexError(line: startLine, message: "incomplete heredoc <<\(heredocMarker) on line #\(startLine), expected ending marker \(heredocMarker)")
        }
        // At the end of input a pending token is kept, even an unterminated quote (as Caddy does).
        return value.isEmpty ? nil : token(nil)
    }

    /// A heredoc's text: the closing marker's indentation is removed from every line.
    private func finishHeredoc(_ raw: String, marker: String, openedOn: Int) throws -> String {
        var lines = raw.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let last = lines.removeLast()
        let padding = String(last.dropLast(marker.count))
        if !padding.allSatisfy({ $0 == " " || $0 == "\t" }) {
            throw LexError(line: openedOn, message: "heredoc marker on line #\(openedOn) must be on its own line")
        }
        var out: [String] = []
        for (offset, text) in lines.enumerated() {
            if text.isEmpty || text == padding { out.append(""); continue }
            guard text.hasPrefix(padding) else {
                throw LexError(line: openedOn + offset + 1, message: "mismatched leading whitespace in heredoc <<\(marker) on line #\(openedOn + offset + 1) [\(text)], expected whitespace [\(padding)] to match the closing marker")
            }
            out.append(String(text.dropFirst(padding.count)))
        }
        return out.joined(separator: "\n")
    }
}
