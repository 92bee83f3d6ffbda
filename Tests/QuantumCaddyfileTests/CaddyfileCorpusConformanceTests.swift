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
                    outcome.differing.append((name, Self.firstDifference(actual.canonical, expected.canonical, at: "")))
                }
            } catch {
                outcome.differing.append((name, "\(error)"))
            }
        }
        let total = outcome.matched.count + outcome.differing.count
        print("Caddyfile corpus: \(outcome.matched.count) of \(total) identical to Caddy 2.6.2")
        for (name, why) in outcome.differing { print("  differs: \(name): \(why.prefix(700))") }
        // All 114 that both Caddy 2.6.2 and the corpus adapt come out identical; keep it so.
        XCTAssertGreaterThanOrEqual(outcome.matched.count, Self.floor, "fewer corpus Caddyfiles adapt identically than before")
    }

    static let floor = 114

    /// Where two JSON values first differ, as a path with both sides.
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, at path: String) -> String {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            let keys = Set(x.map(\.0)).union(y.map(\.0)).sorted()
            for k in keys {
                guard let l = a[k] else { return "\(path)/\(k): missing, expected \(b[k]!.serialized.prefix(200))" }
                guard let r = b[k] else { return "\(path)/\(k): unexpected \(l.serialized.prefix(200))" }
                if l != r { return firstDifference(l, r, at: path + "/" + k) }
            }
        case (.array(let x), .array(let y)) where x.count == y.count:
            for (i, (l, r)) in zip(x, y).enumerated() where l != r { return firstDifference(l, r, at: "\(path)[\(i)]") }
        default: break
        }
        return "\(path): got \(a.serialized.prefix(300)), expected \(b.serialized.prefix(300))"
    }

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
