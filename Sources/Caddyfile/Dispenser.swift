/// A cursor over tokens that knows lines and blocks: how every directive reads its arguments and
/// its `{ ... }` block (Caddy's `caddyfile.Dispenser`, with the same method semantics).
package struct Dispenser {
    var tokens: [Token]
    var cursor = -1
    var nesting = 0

    package init(_ tokens: [Token]) { self.tokens = tokens }

    /// Loads the next token; false when all are consumed.
    @discardableResult
    package mutating func next() -> Bool {
        if cursor < tokens.count - 1 { cursor += 1; return true }
        return false
    }

    /// Steps back one token (to -1 at most, so `next()` starts over).
    @discardableResult
    package mutating func prev() -> Bool {
        if cursor > -1 { cursor -= 1; return cursor > -1 }
        return false
    }

    /// Loads the next token if it is on the same line and does not open a block.
    package mutating func nextArg() -> Bool {
        guard nextOnSameLine() else { return false }
        if val == "{" { cursor -= 1; return false }
        return true
    }

    mutating func nextOnSameLine() -> Bool {
        if cursor < 0 { cursor += 1; return true }
        if cursor >= tokens.count - 1 { return false }
        let current = tokens[cursor], following = tokens[cursor + 1]
        if current.file == following.file && current.line + current.lineBreaks == following.line {
            cursor += 1
            return true
        }
        return false
    }

    /// Loop condition walking every token of the block that opens on this line (or the block
    /// already entered), until its closing brace; the outer braces are consumed, not returned.
    package mutating func nextBlock(_ initialNesting: Int) -> Bool {
        if nesting > initialNesting {
            guard next() else { return false }
            if val == "}" && !nextOnSameLine() {
                nesting -= 1
            } else if val == "{" && !nextOnSameLine() {
                nesting += 1
            }
            return nesting > initialNesting
        }
        guard nextOnSameLine() else { return false }
        if val != "{" { cursor -= 1; return false }
        next()
        if val == "}" { return false }
        nesting += 1
        return true
    }

    /// Text of the current token ("" when none is loaded).
    package var val: String { cursor >= 0 && cursor < tokens.count ? tokens[cursor].text : "" }

    /// The current token (an empty one when none is loaded).
    package var token: Token { cursor >= 0 && cursor < tokens.count ? tokens[cursor] : Token(text: "", file: "", line: 0) }

    /// The current token's text with its quotes, as written.
    package var valRaw: String {
        let t = token
        if let q = t.quote, q != "<" { return "\(q)\(t.text)\(q)" }
        return t.text
    }

    package var line: Int { token.line }
    package var file: String { token.file }

    /// The remaining arguments on this line.
    package mutating func remainingArgs() -> [String] {
        var args: [String] = []
        while nextArg() { args.append(val) }
        return args
    }

    /// How many arguments remain on this line, without consuming them.
    package mutating func countRemainingArgs() -> Int {
        var count = 0
        while nextArg() { count += 1 }
        for _ in 0..<count { prev() }
        return count
    }

    /// Loads exactly one more argument, or throws Caddy's argument error.
    package mutating func arg() throws -> String {
        guard nextArg() else { throw argErr() }
        return val
    }

    /// The tokens from the current one to the end of its line or of the block that line opens.
    package mutating func nextSegment() -> [Token] {
        var segment = [token]
        while nextArg() { segment.append(token) }
        var opened = false
        let level = nesting
        while nextBlock(level) {
            if !opened {
                prev()
                segment.append(token)
                next()
                opened = true
            }
            segment.append(token)
        }
        if opened { segment.append(token) }
        return segment
    }

    /// Moves back to the start, as a new dispenser.
    package mutating func reset() {
        cursor = -1
        nesting = 0
    }

    /// Removes the current token; the cursor stays before the next one.
    mutating func delete() {
        if cursor >= 0 && cursor < tokens.count {
            tokens.remove(at: cursor)
            cursor -= 1
        }
    }

    var isNewLine: Bool {
        if cursor < 1 { return true }
        if cursor > tokens.count - 1 { return false }
        let previous = tokens[cursor - 1], current = tokens[cursor]
        // Tokens from another file or snippet, or from an earlier line (a second import of the
        // same text), start a new line.
        if previous.file != current.file || previous.snippetName != current.snippetName { return true }
        return previous.line + previous.lineBreaks != current.line
    }

    var isNextOnNewLine: Bool {
        if cursor < 0 { return false }
        if cursor >= tokens.count - 1 { return true }
        let current = tokens[cursor], following = tokens[cursor + 1]
        if current.file != following.file { return true }
        return current.line + current.lineBreaks < following.line
    }

    // MARK: Errors worded as Caddy's

    package func argErr() -> CaddyfileError {
        if val == "{" { return err("Unexpected token '{', expecting argument") }
        return err("Wrong argument count or unexpected line ending after '\(val)'")
    }

    package func syntaxErr(_ expected: String) -> CaddyfileError {
        CaddyfileError("\(file):\(line) - Syntax error: Unexpected token '\(val)', expecting '\(expected)'")
    }

    package func eofErr() -> CaddyfileError { err("Unexpected EOF") }

    /// A parse-time error at the current token.
    package func err(_ message: String) -> CaddyfileError {
        CaddyfileError("\(file):\(line) - Error during parsing: \(message)")
    }
}
