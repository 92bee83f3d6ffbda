import Foundation
import QuantumTestSupport
import XCTest

/// A clone of the repository is the whole project (issue 18 §1): no tracked file reaches into the
/// workspace folder beside it, except tests of optional external conformance data, which skip
/// (saying so) when that data is absent. Such tests are named `*ConformanceTests.swift`.
final class StandAloneTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testNoTrackedFileReachesOutsideTheRepository() throws {
        let listing = runProcess("git", ["-C", Self.repo.path, "ls-files", "-z"])
        try XCTSkipIf(listing.status != 0, "not a git checkout: \(listing.output)")
        let files = listing.output.split(separator: "\0").map(String.init)
        XCTAssertGreaterThan(files.count, 100, "git ls-files listed the project")
        // Spelled in pieces, so this file does not name what it looks for.
        let needles = [".." + "/shared", "/work/" + "shared"]
        var offenders: [String] = []
        for file in files where !file.hasSuffix("ConformanceTests.swift") {
            guard let data = FileManager.default.contents(atPath: Self.repo.appendingPathComponent(file).path),
                  let text = String(data: data, encoding: .utf8) else { continue }  // binary files
            for needle in needles where text.contains(needle) { offenders.append("\(file) mentions \(needle)") }
        }
        XCTAssertEqual(offenders, [], "the project must stand alone")
    }
}
