import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The browser page in headless Chromium (Selenium), through `scripts/file_sync_browser.py`.
/// CI installs both (scripts/deps.sh); elsewhere the test is skipped when they are missing,
/// unless QUANTUM_REQUIRE_BROWSER is set, which turns a missing browser into a failure.
final class BrowserPageTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A Python that has Selenium: QUANTUM_BROWSER_PYTHON, the venv deps.sh makes, or python3.
    static func python() -> String? {
        var candidates = [NSTemporaryDirectory() + "quantum-browser-venv/bin/python", "python3"]
        if let chosen = ProcessInfo.processInfo.environment["QUANTUM_BROWSER_PYTHON"] { candidates.insert(chosen, at: 0) }
        return candidates.first { runProcess($0, ["-c", "import selenium"], timeout: 20).status == 0 }
    }

    func testPageShowsLiveChangesAndUploads() async throws {
        let required = ProcessInfo.processInfo.environment["QUANTUM_REQUIRE_BROWSER"] != nil
        let hasBrowser = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        guard let python = Self.python(), hasBrowser else {
            if required { return XCTFail("headless Chromium + Selenium are required (QUANTUM_REQUIRE_BROWSER) but missing") }
            throw XCTSkip("no Chromium/chromedriver/Selenium here (scripts/deps.sh installs them)")
        }
        let s = try await SyncServer.start()
        let script = Self.repo.appendingPathComponent("scripts/file_sync_browser.py").path
        // Screenshots stay in the temporary folder (CI keeps it as an artifact).
        let screenshots = NSTemporaryDirectory() + "quantum-sync-page-screenshots"
        let result = runProcess(python, [script, "--url", "http://127.0.0.1:\(s.port)/", "--root", s.root, "--screenshots", screenshots],
                                timeout: 240)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("9 passed, 0 failed"), result.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshots + "/folder.png"), "screenshots in \(screenshots)")
        await s.stop()
    }
}
