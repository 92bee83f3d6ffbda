import XCTest

@testable import QuantumCaddyfile

/// Tokens as Caddy's lexer makes them: quoting, escapes, comments, continuations, heredocs.
final class LexerTests: XCTestCase {
    func texts(_ input: String) throws -> [String] { try Lexer.tokenize(input, file: "t").map(\.text) }

    func testWhitespaceSeparatesAndLinesAreCounted() throws {
        let tokens = try Lexer.tokenize("a b\n\n  c\td\n", file: "t")
        XCTAssertEqual(tokens.map(\.text), ["a", "b", "c", "d"])
        XCTAssertEqual(tokens.map(\.line), [1, 1, 3, 3])
    }

    func testQuotesKeepSpacesAndNewlinesAndOnlyEscapeQuotes() throws {
        XCTAssertEqual(try texts(#"respond "hello world" "a \"q\" \n b""#), ["respond", "hello world", #"a "q" \n b"#])
        let tokens = try Lexer.tokenize("x \"two\nlines\" y", file: "t")
        XCTAssertEqual(tokens.map(\.text), ["x", "two\nlines", "y"])
        XCTAssertEqual(tokens[2].line, 2)
        XCTAssertTrue(tokens[1].wasQuoted)
    }

    func testBackticksAreRaw() throws {
        XCTAssertEqual(try texts(#"expr `a "b" \c`"#), ["expr", #"a "b" \c"#])
    }

    func testCommentsStartOnlyAtATokenStart() throws {
        XCTAssertEqual(try texts("a # comment b\nc#notcomment d"), ["a", "c#notcomment", "d"])
    }

    func testBackslashNewlineContinuesTheLine() throws {
        let tokens = try Lexer.tokenize("a \\\n b\nc", file: "t")
        XCTAssertEqual(tokens.map(\.text), ["a", "b", "c"])
        XCTAssertEqual(tokens.map(\.line), [1, 1, 3], "a continued line keeps its number; the next line counts both")
    }

    func testEscapesOutsideQuotesKeepTheBackslash() throws {
        XCTAssertEqual(try texts(#"a\{b\}"#), [#"a\{b\}"#])
    }

    func testHeredocStripsTheClosingMarkersIndentation() throws {
        let tokens = try Lexer.tokenize("respond <<HTML\n\t\t<p>hi</p>\n\t\t  x\n\t\tHTML 200\nnext", file: "t")
        XCTAssertEqual(tokens.map(\.text), ["respond", "<p>hi</p>\n  x", "200", "next"])
        XCTAssertEqual(tokens[3].line, 5)
    }

    func testBadHeredocsAreErrors() {
        XCTAssertThrowsError(try texts("a <<END\nno end")) { XCTAssertTrue("\($0)".contains("incomplete heredoc")) }
        XCTAssertThrowsError(try texts("a <<<END\nx\nEND")) { XCTAssertTrue("\($0)".contains("too many '<'")) }
        XCTAssertThrowsError(try texts("a <<END\n x\n  END")) { XCTAssertTrue("\($0)".contains("mismatched leading whitespace")) }
    }

    func testEnvironmentVariablesExpandBeforeLexing() {
        let env = ["HOST": "example.com", "TWO": "a b"]
        XCTAssertEqual(EnvironmentVariables.expand("{$HOST} {$NONE:fallback} {$NONE} {$TWO} {$}", lookup: { env[$0] }),
                       "example.com fallback  a b {$}")
    }
}
