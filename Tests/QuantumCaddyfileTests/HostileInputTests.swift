import Foundation
import XCTest

@testable import QuantumCaddyfile

/// Input meant to hurt: each is refused with an error (or adapted) without a crash or a hang.
final class HostileInputTests: XCTestCase {
    func adapt(_ text: String, directory: String? = nil) throws -> CaddyfileAdapter.Result {
        try CaddyfileAdapter.adapt(text, file: "Caddyfile", directory: directory, environment: { _ in nil })
    }

    func testNegativeImportArgumentIndexStaysText() throws {
        let json = try adapt("(s) {\n\trespond \"{args.-1} {args[-1]}\"\n}\n:80 {\n\timport s a\n}\n").config.serialized
        XCTAssertTrue(json.contains("{args.-1} {args[-1]}"), json)
    }

    func testHugeSizesAreErrors() {
        for size in ["99999999999999999999", "10000000TB"] {
            XCTAssertThrowsError(try adapt(":80 {\n\trequest_body {\n\t\tmax_size \(size)\n\t}\n}\n")) {
                XCTAssertTrue("\($0)".contains("max_size"), "\($0)")
            }
        }
    }

    func testDeepNestingIsRefused() {
        let deep = String(repeating: "route {\n", count: 5000) + String(repeating: "}\n", count: 5000)
        XCTAssertThrowsError(try adapt(":80 {\n" + deep + "}\n")) { XCTAssertTrue("\($0)".contains("nested more than"), "\($0)") }
        let snippet = "(s) {\n" + String(repeating: "a {\n", count: 500) + String(repeating: "}\n", count: 500) + "}\n"
        XCTAssertThrowsError(try adapt(snippet)) { XCTAssertTrue("\($0)".contains("nested more than"), "\($0)") }
    }

    func testALongTokenIsLinear() throws {
        // Quadratic lexing would take minutes here; linear takes milliseconds.
        let long = String(repeating: "x", count: 2_000_000)
        XCTAssertNoThrow(try CaddyfileParser.parse(":80 {\n\trespond " + long + "\n}\n", file: "Caddyfile", environment: { _ in nil }))
    }

    func testImportMultiplicationIsBounded() {
        let big = "(big) {\n" + String(repeating: "header a b\n", count: 20_000) + "}\n"
        let site = ":80 {\n" + String(repeating: "\timport big\n", count: 200) + "}\n"
        XCTAssertThrowsError(try adapt(big + site)) { XCTAssertTrue("\($0)".contains("tokens"), "\($0)") }
    }

    func testOnlyRegularFilesAreImported() throws {
        XCTAssertThrowsError(try adapt("import /dev/zero\n")) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
        let dir = NSTemporaryDirectory() + "caddyfile-fifo-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(mkfifo(dir + "/pipe", 0o600), 0)
        XCTAssertThrowsError(try adapt("import pipe\n", directory: dir)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    func testOneLineBlocksAreRefusedAsCaddyRefusesThem() {
        XCTAssertThrowsError(try adapt(":80 {\n\thandle /x { respond hi }\n}\n")) {
            XCTAssertTrue("\($0)".contains("Unexpected next token after '{' on same line"), "\($0)")
        }
        XCTAssertThrowsError(try adapt(":80 {\n\tfile_server {}\n}\n")) { XCTAssertTrue("\($0)".contains("Unexpected '{}' at end of line"), "\($0)") }
    }

    func testGlobsMayBeInAnyPathComponent() throws {
        let dir = NSTemporaryDirectory() + "caddyfile-glob-\(UUID().uuidString)"
        for site in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: dir + "/sites/\(site)", withIntermediateDirectories: true)
            try "\(site).example.com {\n\trespond \(site)\n}\n".write(toFile: dir + "/sites/\(site)/Caddyfile", atomically: true, encoding: .utf8)
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try adapt("import sites/*/Caddyfile\nimport nothing/*.caddy\n", directory: dir)
        let json = result.config.serialized
        XCTAssertTrue(json.contains("a.example.com") && json.contains("b.example.com"), json)
        XCTAssertTrue(result.warnings.contains { $0.message.contains("No files matching import glob pattern: nothing/*.caddy") }, "\(result.warnings)")
    }

    func testBindHostsAreJoinedAsCaddyJoinsThem() throws {
        let json = try adapt(":80 {\n\tbind [::1] tcp/[::1] tcp4/127.0.0.1 ::2\n}\n").config.serialized
        XCTAssertTrue(json.contains(#""listen":["[::1]:80","[::2]:80","tcp4/127.0.0.1:80"]"#), json)
    }

    func testRespondNeedsSomething() {
        XCTAssertThrowsError(try adapt(":80 {\n\trespond\n}\n"))
        XCTAssertThrowsError(try adapt(":80 {\n\trespond {\n\t\tbody x\n\t}\n}\n"))
    }

    func testFormatterKeepsHeredocBodies() {
        let text = "example.com {\n\trespond <<HTML\n\t\t<p>\n\t\t  { not a block }\n\t\t</p>\n\t\tHTML 200\n\tfile_server\n}\n"
        XCTAssertEqual(CaddyfileFormatter.format(text), text)
        XCTAssertNil(CaddyfileFormatter.firstUnformattedLine(text))
    }
}
