import XCTest

@testable import QuantumCaddyfile

/// `fmt` output, as `caddy fmt` writes it.
final class FormatterTests: XCTestCase {
    func testIndentationSpacingAndBlankLines() {
        let input = "a.com{\nroot * /srv\n\n\n\nfile_server   browse\nreverse_proxy /api/* localhost:9000 {\nlb_policy first\n}\n}\nb.com {\nrespond \"hi  there\" # keep\n}"
        // What Debian's caddy 2.6.2 `caddy fmt` prints for `input`.
        let expected = "a.com {\n\troot * /srv\n\n\tfile_server browse\n\treverse_proxy /api/* localhost:9000 {\n\t\tlb_policy first\n\t}\n}\nb.com {\n\trespond \"hi  there\" # keep\n}\n"
        XCTAssertEqual(CaddyfileFormatter.format(input), expected)
        XCTAssertEqual(CaddyfileFormatter.format(expected), expected, "formatting is idempotent")
        XCTAssertNil(CaddyfileFormatter.firstUnformattedLine(expected))
        XCTAssertEqual(CaddyfileFormatter.firstUnformattedLine(input), 1)
    }

    func testDiffMarksChangedLines() {
        XCTAssertEqual(CaddyfileFormatter.diff("a\nb\n", "a\nc\n"), ["  a", "- b", "+ c", "  "])
        XCTAssertEqual(CaddyfileFormatter.diff("same", "same"), [])
    }
}
