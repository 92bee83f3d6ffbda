/// `caddy fmt`: one directive per line, blocks indented with tabs, one space between tokens, at
/// most one blank line; comments, quotes, escapes and heredoc bodies kept as written.
public enum CaddyfileFormatter {
    /// The formatted text (always ending in one newline).
    public static func format(_ text: String) -> String {
        let input = Array(text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars)
        var out = String.UnicodeScalarView()
        var last: Unicode.Scalar = "\0"
        var space = true, beginningOfLine = true
        var openBrace = false, openBraceWritten = false, openBraceSpace = false
        var newLines = 0, comment = false, quoted = false, escaped = false, nesting = 0

        func write(_ c: Unicode.Scalar) {
            out.append(c)
            last = c
        }
        func indent() { for _ in 0..<nesting { write("\t") } }
        func nextLine() {
            write("\n")
            beginningOfLine = true
        }

        var index = 0
        while index < input.count {
            let ch = input[index]
            index += 1
            if comment {
                if ch == "\n" {
                    comment = false
                    space = true
                    nextLine()
                } else {
                    write(ch)
                }
                continue
            }
            if !escaped && ch == "\\" {
                if space {
                    write(" ")
                    space = false
                }
                write(ch)
                escaped = true
                continue
            }
            if escaped {
                write(ch)
                escaped = false
                continue
            }
            if quoted {
                if ch == "\"" { quoted = false }
                write(ch)
                continue
            }
            if space && ch == "\"" { quoted = true }
            if ch.properties.isWhitespace {
                space = true
                if ch == "\n" { newLines += 1 }
                continue
            }
            let spacePrior = space
            space = false

            // A heredoc is copied as written, from `<<MARKER` through its closing marker.
            if spacePrior, !openBrace, ch == "<", let end = heredocEnd(input, from: index - 1) {
                newLines = min(newLines, 2)
                for _ in 0..<newLines { nextLine() }
                newLines = 0
                if beginningOfLine { indent() } else { write(" ") }
                for c in input[(index - 1)..<end] { write(c) }
                index = end
                beginningOfLine = false
                continue
            }

            if ch == "#" { comment = true }

            if openBrace && spacePrior && !openBraceWritten {
                openBrace = false
                if beginningOfLine {
                    indent()
                } else if !openBraceSpace {
                    write(" ")
                }
                write("{")
                openBraceWritten = true
                nextLine()
                newLines = 0
                if nesting < 10 { nesting += 1 }
            }

            if ch == "{" {
                openBrace = true
                openBraceWritten = false
                openBraceSpace = spacePrior && !beginningOfLine
                if openBraceSpace { write(" ") }
                continue
            }
            if ch == "}" && (spacePrior || !openBrace) {
                if last != "\n" { nextLine() }
                if nesting > 0 { nesting -= 1 }
                indent()
                write("}")
                newLines = 0
                continue
            }

            newLines = min(newLines, 2)
            for _ in 0..<newLines { nextLine() }
            newLines = 0
            if beginningOfLine { indent() }
            if !beginningOfLine && spacePrior { write(" ") }
            if openBrace && !openBraceWritten {
                write("{")
                openBraceWritten = true
            }
            write(ch)
            beginningOfLine = false
        }
        if last != "\n" { write("\n") }
        return String(out)
    }

    /// The end of a heredoc starting at `start` (`<<MARKER`, a line break, lines, the marker on a
    /// line of its own), or nil when the text there is not one.
    private static func heredocEnd(_ s: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + 2 < s.count, s[start] == "<", s[start + 1] == "<" else { return nil }
        var i = start + 2
        var marker: [Unicode.Scalar] = []
        while i < s.count, ("a"..."z").contains(s[i]) || ("A"..."Z").contains(s[i]) || ("0"..."9").contains(s[i]) || s[i] == "_" || s[i] == "-" {
            marker.append(s[i])
            i += 1
        }
        guard !marker.isEmpty, i < s.count, s[i] == "\n" else { return nil }
        var lineStart = i + 1
        while lineStart < s.count {
            var j = lineStart
            while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 }
            if j + marker.count <= s.count, Array(s[j..<(j + marker.count)]) == marker,
               j + marker.count == s.count || s[j + marker.count].properties.isWhitespace {
                return j + marker.count
            }
            guard let newline = s[lineStart...].firstIndex(of: "\n") else { return nil }
            lineStart = newline + 1
        }
        return nil
    }

    /// Where `text` first differs from its formatted form (1-based line), nil when formatted.
    public static func firstUnformattedLine(_ text: String) -> Int? {
        let normalized = Array(text.replacingOccurrences(of: "\r\n", with: "\n").utf8)
        let formatted = Array(format(text).utf8)
        if normalized == formatted { return nil }
        var line = 1
        for (i, ch) in normalized.enumerated() {
            if i >= formatted.count || ch != formatted[i] { break }
            if ch == 10 { line += 1 }
        }
        return line
    }

    /// A line diff from `a` to `b` as `caddy fmt --diff` prints it (`- ` removed, `+ ` added,
    /// two spaces kept), empty when equal.
    public static func diff(_ a: String, _ b: String) -> [String] {
        if a == b { return [] }
        let x = a.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Longest common subsequence, then walk it.
        var lcs = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0, j = 0
        while i < x.count || j < y.count {
            if i < x.count && j < y.count && x[i] == y[j] {
                out.append("  " + x[i]); i += 1; j += 1
            } else if i < x.count && (j == y.count || lcs[i + 1][j] >= lcs[i][j + 1]) {
                out.append("- " + x[i]); i += 1
            } else {
                out.append("+ " + y[j]); j += 1
            }
        }
        return out
    }
}

import Foundation
