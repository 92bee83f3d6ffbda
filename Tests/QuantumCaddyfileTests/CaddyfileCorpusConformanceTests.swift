import Foundation
import QuantumCore
import QuantumTestSupport
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
            var expectedText = try String(contentsOfFile: Self.corpus + "/caddy-2.6.2/\(name).json", encoding: .utf8)
            for (find, replacement) in Self.deliberate[name] ?? [] {
                guard let range = expectedText.range(of: find) else { XCTFail("\(name): \(find) not in 2.6.2's JSON"); continue }
                expectedText.replaceSubrange(range, with: replacement)
            }
            let expected = try JSONParser.parse(expectedText)
            do {
                let actual = try Self.adapt(name)
                if actual.canonical == expected.canonical {
                    outcome.matched.append(name)
                } else {
                    outcome.differing.append((name, JSONDifference.first(actual.canonical, expected.canonical, at: "")))
                }
            } catch {
                outcome.differing.append((name, "\(error)"))
            }
        }
        let total = outcome.matched.count + outcome.differing.count
        print("Caddyfile corpus: \(outcome.matched.count) of \(total) identical to Caddy 2.6.2 (\(Self.deliberate.count) with the documented deliberate differences)")
        for (name, why) in outcome.differing { print("  differs: \(name): \(why.prefix(700))") }
        // All 114 that both Caddy 2.6.2 and the corpus adapt come out identical (two with the
        // deliberate differences below); keep it so.
        XCTAssertGreaterThanOrEqual(outcome.matched.count, Self.floor, "fewer corpus Caddyfiles adapt identically than before")
    }

    static let floor = 114

    /// Where Quantum differs from 2.6.2 on purpose, as edits to 2.6.2's JSON (each applied once,
    /// in order): import arguments written `{args[N]}` are filled in, as current Caddy fills them
    /// (2.6.2 knew only `{args.N}` and left these as text).
    static let deliberate: [String: [(String, String)]] = [
        "import_args_file": [
            ("'I am {args[0]}', hears {args[1]}", "'I am Groot', hears Rocket"),
            ("'I am {args[0]}', hears {args[1]}", "'I am you', hears the confused man"),
        ],
        "import_args_snippet": [
            ("/var/log/caddy/{args[0]}.access.log", "/var/log/caddy/a.example.com.access.log"),
            ("/var/log/caddy/{args[0]}.access.log", "/var/log/caddy/b.example.com.access.log"),
        ],
    ]


    /// Current Caddy keeps only the first handler of a named route made of one unmatched route
    /// (`&(a) { invoke b; respond "a" }` loses its `respond`); Quantum keeps them all, on purpose.
    /// This is the corpus's JSON with the dropped `respond`s put back.
    static func keepingNamedRouteHandlers(_ config: JSONValue) -> JSONValue {
        var out = config
        guard var apps = out["apps"], var http = apps["http"], var servers = http["servers"] else { return config }
        for (server, var body) in servers.objectMembers {
            guard var named = body["named_routes"] else { continue }
            for (route, var definition) in named.objectMembers {
                let handlers = definition["handle"]?.arrayValues ?? []
                guard handlers.count == 1, handlers[0]["handler"]?.stringValue == "invoke" else { continue }
                definition.set("handle", .array(handlers + [.object([("body", .string(route)), ("handler", .string("static_response"))])]))
                named.set(route, definition)
            }
            body.set("named_routes", named)
            servers.set(server, body)
        }
        http.set("servers", servers)
        apps.set("http", http)
        out.set("apps", apps)
        return out
    }

    /// Directives newer than 2.6.2 that the adapter has: the corpus's own JSON is the oracle.
    func testNewerDirectivesMatchTheCorpus() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            throw XCTSkip("Caddy's adapter corpus is not beside the repository (\(Self.corpus)); skipping")
        }
        // For the record: how many of those only newer Caddy adapts come out as it writes them.
        var newer = 0, same = 0
        for (name, expect) in try Self.manifest() where expect["caddy_2.6.2"] == "error" && expect["corpus"] == "json" {
            newer += 1
            guard let actual = try? Self.adapt(name),
                  let expected = try? JSONParser.parse(String(contentsOfFile: Self.corpus + "/../caddy-adapt/\(name).json", encoding: .utf8)) else { continue }
            if actual.canonical == expected.canonical { same += 1 }
        }
        print("Caddyfile corpus, newer than 2.6.2: \(same) of \(newer) identical to the current Caddy's JSON")
        for name in ["invoke_named_routes", "invoke_nested_named_routes"] {
            var expected = try JSONParser.parse(String(contentsOfFile: Self.corpus + "/../caddy-adapt/\(name).json", encoding: .utf8))
            if name == "invoke_nested_named_routes" { expected = Self.keepingNamedRouteHandlers(expected) }
            let actual = try Self.adapt(name)
            XCTAssertTrue(actual.canonical == expected.canonical, "\(name): \(JSONDifference.first(actual.canonical, expected.canonical, at: ""))")
        }
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

    func testMutatedCorpusNeverCrashesOrHangs() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            throw XCTSkip("Caddy's adapter corpus is not beside the repository (\(Self.corpus)); skipping")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter { $0.hasSuffix(".Caddyfile") }
        let seeds = try names.map { try String(contentsOfFile: Self.corpus + "/" + $0, encoding: .utf8) }
        let seed = UInt64(Date().timeIntervalSince1970)
        print("fuzzing the corpus with seed \(seed)")
        CaddyfileFuzzer.run(seeds: seeds, count: CaddyfileFuzzer.count(default: 5000), seed: seed, deadline: 600)
    }

    func testFormatterMatchesCaddyFmtOnTheCorpus() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            throw XCTSkip("Caddy's adapter corpus is not beside the repository (\(Self.corpus)); skipping")
        }
        guard DebianCaddy.installed else { throw XCTSkip("Debian's caddy is not installed") }
        var differing: [String] = []
        // 2.6.2's fmt does not know heredocs (current Caddy's) and re-indents their bodies;
        // Quantum keeps them as written, so those files are left out of the comparison.
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter({ $0.hasSuffix(".Caddyfile") && !$0.hasPrefix("heredoc") }).sorted() {
            let path = Self.corpus + "/" + name
            let oracle = runProcess("/bin/sh", ["-c", "\(DebianCaddy.path) fmt '\(path)' 2>/dev/null"])
            guard oracle.status == 0 else { continue }
            if CaddyfileFormatter.format(try String(contentsOfFile: path, encoding: .utf8)) != oracle.output { differing.append(name) }
        }
        XCTAssertEqual(differing, [], "fmt differs from caddy fmt")
    }
}
