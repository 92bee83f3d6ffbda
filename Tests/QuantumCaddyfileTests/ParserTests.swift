import Foundation
import XCTest

@testable import QuantumCaddyfile

/// Server blocks, segments, snippets and imports, as Caddy's parser groups them.
final class ParserTests: XCTestCase {
    func parse(_ text: String, directory: String? = nil) throws -> [ServerBlock] {
        try CaddyfileParser.parse(text, file: "Caddyfile", directory: directory, environment: { _ in nil })
    }

    func testBlocksKeysAndSegments() throws {
        let blocks = try parse("{\n\tdebug\n}\n\na.com, b.com {\n\troot * /srv\n\tfile_server {\n\t\tbrowse\n\t}\n}\n")
        XCTAssertEqual(blocks.count, 2)
        XCTAssertEqual(blocks[0].keys, [])
        XCTAssertEqual(blocks[1].keys, ["a.com", "b.com"])
        XCTAssertEqual(blocks[1].segments.map { $0.map(\.text) }, [["root", "*", "/srv"], ["file_server", "{", "browse", "}"]])
    }

    func testASiteWithoutBraces() throws {
        let blocks = try parse(":8080\nrespond hi\n")
        XCTAssertEqual(blocks.count, 1)
        XCTAssertEqual(blocks[0].keys, [":8080"])
        XCTAssertFalse(blocks[0].hasBraces)
    }

    func testKeysAcrossLinesWithTrailingCommas() throws {
        XCTAssertEqual(try parse("a.com,\nb.com {\n}\n")[0].keys, ["a.com", "b.com"])
        XCTAssertThrowsError(try parse("a.com,b.com {\n}\n")) { XCTAssertTrue("\($0)".contains("cannot contain a comma")) }
        XCTAssertThrowsError(try parse("a.com{\n}\n")) { XCTAssertTrue("\($0)".contains("cannot end with a curly brace")) }
    }

    func testUnbalancedBracesAreErrors() {
        XCTAssertThrowsError(try parse("a.com {\n\trespond x\n")) { XCTAssertTrue("\($0)".contains("expecting '}'"), "\($0)") }
        // A stray closing brace parses as a site named "}", which no certificate can name (as Caddy).
        XCTAssertThrowsError(try CaddyfileAdapter.adapt("a.com {\n}\n}\n", environment: { _ in nil })) {
            XCTAssertTrue("\($0)".contains("subject does not qualify for certificate: '}'"), "\($0)")
        }
    }

    func testSnippetsAreImportedWithArguments() throws {
        let blocks = try parse("(common) {\n\theader X-Site {args.0}\n}\n\na.com {\n\timport common one\n}\n")
        XCTAssertEqual(blocks.count, 1, "a snippet is not a site")
        XCTAssertEqual(blocks[0].segments.map { $0.map(\.text) }, [["header", "X-Site", "one"]])
    }

    func testImportArgumentsInBothSpellingsAndRanges() throws {
        let text = "(s) {\n\trespond \"{args.0} {args[1]} ({args[:]})\"\n\tbind {args[1:]}\n}\n\na.com {\n\timport s one two three\n}\n"
        let segments = try parse(text)[0].segments.map { $0.map(\.text) }
        XCTAssertEqual(segments, [["respond", "one two (one two three)"], ["bind", "two", "three"]],
                       "a range alone becomes one token per argument; inside text, the arguments joined by spaces")
    }

    func testFilesAreImportedRelativeToTheCaddyfile() throws {
        let dir = NSTemporaryDirectory() + "caddyfile-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/sites", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "b.com {\n\trespond b\n}\n".write(toFile: dir + "/sites/b.caddy", atomically: true, encoding: .utf8)
        try "c.com {\n\trespond c\n}\n".write(toFile: dir + "/sites/c.caddy", atomically: true, encoding: .utf8)
        let blocks = try parse("a.com {\n\trespond a\n}\nimport sites/*.caddy\n", directory: dir)
        XCTAssertEqual(blocks.map(\.keys), [["a.com"], ["b.com"], ["c.com"]])
        XCTAssertEqual(blocks[1].segments[0][0].file, dir + "/sites/b.caddy", "imported tokens name their own file")
        XCTAssertThrowsError(try parse("import missing.caddy\n", directory: dir)) { XCTAssertTrue("\($0)".contains("File to import not found")) }
    }

    func testImportCyclesAreRefused() {
        XCTAssertThrowsError(try parse("(a) {\n\timport b\n}\n(b) {\n\timport a\n}\nx.com {\n\timport a\n}\n")) {
            XCTAssertTrue("\($0)".contains("cycle"), "\($0)")
        }
    }

    func testRedeclaredSnippetIsAnError() {
        XCTAssertThrowsError(try parse("(a) {\n}\n(a) {\n}\n")) { XCTAssertTrue("\($0)".contains("redeclaration")) }
    }
}
