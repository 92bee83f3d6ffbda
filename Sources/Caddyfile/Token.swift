/// One lexical token of a Caddyfile, with where it came from so errors can name the file and line.
package struct Token: Sendable, Equatable {
    /// The token's text with quotes removed.
    package var text: String
    /// The file the token was read from (as named to the parser, or the absolute path of an import).
    package var file: String
    /// The line the token starts on (1-based).
    package var line: Int
    /// The quote that delimited the token: `"`, `` ` ``, `<` for a heredoc, or nil when bare.
    package var quote: Character?
    /// Set on tokens that came from a snippet, so import cycles through snippets can be told apart.
    var snippetName: String?

    package init(text: String, file: String, line: Int, quote: Character? = nil) {
        self.text = text
        self.file = file
        self.line = line
        self.quote = quote
    }

    /// True when the token was quoted (a quoted `{` is text, not a block).
    package var wasQuoted: Bool { quote != nil }

    /// How many line breaks the token's own text spans (a quoted token may span several lines).
    var lineBreaks: Int {
        if quote == "<" { return text.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } + 2 }
        return quote == nil ? 0 : text.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }
}
