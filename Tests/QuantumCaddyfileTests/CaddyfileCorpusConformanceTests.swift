import Foundation
import QuantumCore
import XCTest

@testable import QuantumCaddyfile

/// Caddy's own adapter corpus (optional data beside the repository): for each Caddyfile that
/// Caddy 2.6.2 adapts, Quantum's output must equal 2.6.2's as data; those both refuse must be
/// refused. Skips, with a message, when the corpus is absent.
final class CaddyfileCorpusConformanceTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/conformance/caddy/caddyfile-adapt").standardizedFileURL.path

    struct Outcome {
        var matched: [String] = []
        var differing: [(String, String)] = []
    }

    static func manifest() throws -> [String: [String: String]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: corpus + "/caddy-2.6.2/MANIFEST.json"))
        return try JSONDecoder().decode([String: [String: String]].self, from: data)
    }

    static func adapt(_ name: String) throws -> JSONValue {
        let text = try String(contentsOfFile: corpus + "/\(name).Caddyfile", encoding: .utf8)
        return try CaddyfileAdapter.adapt(text, file: "Caddyfile", directory: corpus, environment: { _ in nil }).config
    }

    func testOutputEqualsCaddy262WhereBothAdapt() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            throw XCTSkip("Caddy's adapter corpus is not beside the repository (\(Self.corpus)); skipping")
        }
        var outcome = Outcome()
        for (name, expect) in try Self.manifest().sorted(by: { $0.key < $1.key }) where expect["caddy_2.6.2"] == "json" && expect["corpus"] == "json" {
            let expected = try JSONParser.parse(String(contentsOfFile: Self.corpus + "/caddy-2.6.2/\(name).json", encoding: .utf8))
            do {
                let actual = try Self.adapt(name)
                if actual.canonical == expected.canonical {
                    outcome.matched.append(name)
                } else {
                    outcome.differing.append((name, "different JSON"))
                }
            } catch {
                outcome.differing.append((name, "\(error)"))
            }
        }
        let total = outcome.matched.count + outcome.differing.count
        print("Caddyfile corpus: \(outcome.matched.count) of \(total) identical to Caddy 2.6.2")
        for (name, why) in outcome.differing { print("  differs: \(name): \(why.prefix(160))") }
        // A ratchet: raise it as the adapter grows (the target is 109 of 114).
        XCTAssertGreaterThanOrEqual(outcome.matched.count, Self.floor, "fewer corpus Caddyfiles adapt identically than before")
    }

    static let floor = 0

    func testRefusedWhereBothRefuse() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            throw XCTSkip("Caddy's adapter corpus is not beside the repository (\(Self.corpus)); skipping")
        }
        var accepted: [String] = []
        for (name, expect) in try Self.manifest() where expect["corpus"] == "error" {
            if (try? Self.adapt(name)) != nil { accepted.append(name) }
        }
        XCTAssertEqual(accepted.sorted(), [], "Caddyfiles Caddy refuses were adapted")
    }
}
