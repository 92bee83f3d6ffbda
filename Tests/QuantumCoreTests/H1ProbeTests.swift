import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The project's HTTP/1.1 robustness and smuggling corpus (`Support/h1_probe.py`: framing
/// ambiguities, header and request-line syntax, limits, pipelining; raw sockets from Python)
/// against a live server: every case gets an answer RFC 9112 allows, and the server still
/// answers after each.
final class H1ProbeTests: XCTestCase {
    func testH1ProbeReportsNoFailures() async throws {
        guard let python = Self.findExecutable("python3") else { throw XCTSkip("python3 not found") }
        let script = HTTP2FrameTests.script(["Support", "h1_probe.py"])
        try await withServer(routes: """
        [{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "body": "Hello, World!"}]}]
        """) { server in
            let (status, output) = runProcess(python, [script, "--port", String(server.port), "--path", "/hello"], timeout: 180)
            let lines = output.split(separator: "\n").map(String.init)
            let last = lines.last ?? ""
            print("h1_probe: \(last)")
            XCTAssertTrue(last.hasSuffix(" 0 failed") && !last.hasPrefix("0 passed"), "h1_probe: \(last)\n\(output)")
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
