import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// Caddy's own adapter-test configs (`../shared/conformance/caddy/caddy-adapt`, the JSON halves):
/// of those Caddy 2.6.2 accepts, how many Quantum loads. A ratchet: the count may only grow (raise
/// `floor` as modules land); the message lists what still refuses and why. Skipped, with a
/// message, where the conformance data is absent (a clone of this repository alone).
final class CaddyAdaptConformanceTests: XCTestCase {
    static let corpus = CLITests.repo.deletingLastPathComponent().appendingPathComponent("shared/conformance/caddy")
    /// Loaded at the last count (2026-12-08: 89 of 112; the rest need ACME, FastCGI,
    /// placeholder and unix upstreams, h2c upstreams, push, acme_server).
    static let floor = 89

    func testConfigsCaddyAcceptsLoad() throws {
        let list = Self.corpus.appendingPathComponent("caddy-adapt.caddy-2.6.2-valid.txt").path
        guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
            throw XCTSkip("no Caddy conformance data at \(Self.corpus.path) (optional: see the README)")
        }
        let names = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let home = NSTemporaryDirectory() + "quantum-corpus-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        var refused: [String] = []
        for name in names {
            let path = Self.corpus.appendingPathComponent("caddy-adapt/" + name).path
            // Standard error joined to the output: the reason is the refusal's last line.
            let result = runProcess("/bin/sh", ["-c", "HOME=\"$1\" QUANTUM_DATA_DIR=\"$1/data\" exec \"$2\" validate --config \"$3\" 2>&1",
                                                "sh", home, binary, path])
            if result.status != 0 {
                let why = result.output.split(separator: "\n").last { !$0.hasPrefix("{") }.map(String.init) ?? "?"
                refused.append("\(name): \(why.replacingOccurrences(of: path + ": ", with: ""))")
            }
        }
        let loaded = names.count - refused.count
        XCTAssertGreaterThanOrEqual(loaded, Self.floor, "\(loaded) of \(names.count) load; refused:\n" + refused.joined(separator: "\n"))
        print("caddy-adapt corpus: \(loaded) of \(names.count) configs Caddy 2.6.2 accepts load")
    }
}
