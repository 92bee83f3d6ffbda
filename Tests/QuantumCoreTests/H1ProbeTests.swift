import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Runs the shared HTTP/1.1 robustness and smuggling probe (`../shared/tools/h1_probe.py`,
/// raw sockets from Python) against a live server.
final class H1ProbeTests: XCTestCase {
    func testH1ProbeReportsNoFailures() async throws {
        guard let python = Self.findExecutable("python3") else { throw XCTSkip("python3 not found") }
        // <repo>/Tests/QuantumCoreTests/H1ProbeTests.swift → <repo>/../shared/tools/h1_probe.py
        var repo = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        repo.removeLast(3)
        let script = (repo + ["..", "shared", "tools", "h1_probe.py"]).joined(separator: "/")
        guard access(script, R_OK) == 0 else { throw XCTSkip("\(script) not found") }

        try await withServer(routes: """
        [{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "body": "Hello, World!"}]}]
        """) { server in
            let (status, output) = runProcess(python, [script, "--port", String(server.port), "--path", "/hello"], timeout: 180)
            let lines = output.split(separator: "\n").map(String.init)
            let last = lines.last ?? ""
            print("h1_probe: \(last)")
            XCTAssertTrue(last.contains(" 0 failed"), "h1_probe: \(last)\n\(output)")
            XCTAssertEqual(status, 0, output)
            for line in lines where line.hasPrefix("FAIL") { XCTFail(line) }
        }
    }

    static func findExecutable(_ name: String) -> String? {
        guard let path = getenv("PATH").map({ String(cString: $0) }) else { return nil }
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }
}
