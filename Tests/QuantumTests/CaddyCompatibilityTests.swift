import Foundation
import QuantumTestSupport
import XCTest

/// The shipped configs are Caddy configs: caddy itself must accept every one (when installed).
final class CaddyCompatibilityTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testShippedConfigsAreValidForCaddy() throws {
        try XCTSkipIf(runProcess("caddy", ["version"]).status != 0, "caddy is not installed")
        let files = ["Configs", "Benchmarks"].flatMap { dir -> [String] in
            let path = Self.repo.appendingPathComponent(dir).path
            return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".json") }.sorted().map { path + "/" + $0 }
        }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let result = runProcess("caddy", ["validate", "--config", file])
            XCTAssertEqual(result.status, 0, "caddy rejects \(file)")
        }
    }
}
