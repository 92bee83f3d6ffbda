import Foundation
import QuantumCore
import QuantumTestSupport
import XCTest

@testable import QuantumCaddyfile

/// Debian's `caddy adapt` (2.6.2) as the oracle: Caddyfiles written from Caddy's documentation,
/// one per feature area (`Oracle/documented.caddyfiles`), must adapt to the same JSON; those
/// Caddy refuses (`Oracle/refused.caddyfiles`) must be refused; `fmt` must print what `caddy
/// fmt` prints. Skips when caddy is not installed.
final class CaddyAdaptOracleTests: XCTestCase {
    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracle").path

    /// The `### name` sections of a cases file.
    static func cases(_ file: String) throws -> [(name: String, text: String)] {
        let text = try String(contentsOfFile: oracle + "/" + file, encoding: .utf8)
        var cases: [(String, String)] = []
        for section in text.components(separatedBy: "### ").dropFirst() {
            guard let newline = section.firstIndex(of: "\n") else { continue }
            cases.append((String(section[..<newline]), String(section[section.index(after: newline)...])))
        }
        return cases
    }

    /// Runs `caddy <arguments>` on `text` saved as ./Caddyfile in a fresh directory.
    func caddy(_ arguments: [String], on text: String) throws -> (status: Int32, output: String, directory: String) {
        let dir = NSTemporaryDirectory() + "caddy-oracle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/Caddyfile", atomically: true, encoding: .utf8)
        let result = runProcess("/bin/sh", ["-c", "cd '\(dir)' && HOME='\(dir)' \(DebianCaddy.path) \(arguments.joined(separator: " ")) 2>/dev/null"])
        return (result.status, result.output, dir)
    }

    override func setUpWithError() throws {
        guard DebianCaddy.installed else { throw XCTSkip("Debian's caddy is not installed; skipping the oracle comparison") }
    }

    func testDocumentedCaddyfilesAdaptAsCaddyDoes() throws {
        let cases = try Self.cases("documented.caddyfiles")
        XCTAssertGreaterThanOrEqual(cases.count, 16)
        for (name, text) in cases {
            let oracle = try caddy(["adapt", "--config", "Caddyfile", "--adapter", "caddyfile"], on: text)
            XCTAssertEqual(oracle.status, 0, "\(name): caddy refused it:\n\(oracle.output)")
            let expected = try JSONParser.parse(oracle.output)
            let actual = try CaddyfileAdapter.adapt(text, file: "Caddyfile", directory: oracle.directory, environment: { _ in nil }).config
            XCTAssertTrue(actual.canonical == expected.canonical,
                          "\(name): \(JSONDifference.first(actual.canonical, expected.canonical, at: ""))")
        }
    }

    func testCaddyfilesCaddyRefusesAreRefused() throws {
        for (name, text) in try Self.cases("refused.caddyfiles") {
            let oracle = try caddy(["adapt", "--config", "Caddyfile", "--adapter", "caddyfile"], on: text)
            XCTAssertNotEqual(oracle.status, 0, "\(name): caddy adapted it; the case is wrong")
            XCTAssertThrowsError(try CaddyfileAdapter.adapt(text, file: "Caddyfile", directory: oracle.directory, environment: { _ in nil }),
                                 "\(name): adapted, but Caddy refuses it")
        }
    }

    func testErrorsNameTheFileAndLineAsCaddyDoes() throws {
        let text = "example.com {\n\troot * /srv\n\tfle_server\n}\n"
        XCTAssertThrowsError(try CaddyfileAdapter.adapt(text, file: "Caddyfile", environment: { _ in nil })) {
            XCTAssertEqual("\($0)", "Caddyfile:3: unrecognized directive: fle_server")
        }
    }

    func testFormatterPrintsWhatCaddyFmtPrints() throws {
        for (name, text) in try Self.cases("documented.caddyfiles") + Self.cases("refused.caddyfiles") {
            // Messy on purpose: no indentation, extra blank lines and spaces.
            let messy = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "  ") }
                .joined(separator: "\n\n\n")
            for input in [text, messy] {
                let oracle = try caddy(["fmt", "Caddyfile"], on: input)
                XCTAssertEqual(oracle.status, 0, name)
                XCTAssertEqual(CaddyfileFormatter.format(input), oracle.output, "\(name): fmt differs from caddy fmt")
            }
        }
    }
}
