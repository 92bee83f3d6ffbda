import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `vars_regexp` against Debian's `caddy` 2.6.2: the same config and requests answer alike.
final class VarsRegexpMatcherTests: XCTestCase {
    func config(port: Int, admin: Int) -> String {
        #"""
        {"admin": {"listen": "127.0.0.1:\#(admin)"},
         "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "automatic_https": {"disable": true},
          "routes": [
            {"handle": [{"handler": "vars", "who": "{http.request.header.X-Who}"}]},
            {"match": [{"vars_regexp": {"who": {"name": "w", "pattern": "^(?P<first>[a-z]+)-(\\d+)$"}}}],
             "handle": [{"handler": "static_response", "body": "var {http.regexp.w.first}/{http.regexp.w.2}"}]},
            {"match": [{"vars_regexp": {"{http.request.header.X-Team}": {"name": "t", "pattern": "^team-(.+)$"}}}],
             "handle": [{"handler": "static_response", "body": "placeholder {http.regexp.t.1}"}]},
            {"match": [{"vars_regexp": {"unset": {"pattern": "^<nil>$"}}}],
             "handle": [{"handler": "static_response", "body": "unset reads as <nil>"}]}]}}}}}
        """#
    }

    func testAnswersMatchCaddys() async throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let scratch = NSTemporaryDirectory() + "quantum-varsre-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let port = freePort(), caddyPort = freePort(), admin = freePort()
        let server = try await TestServer.start(config(port: port, admin: freePort()))
        let caddy = try DebianCaddy.start(config(port: caddyPort, admin: admin), admin: admin, scratch: scratch)
        defer { caddy.terminate(); caddy.waitUntilExit() }
        for headers in [["X-Who: ada-42"], ["X-Team: team-red"], ["X-Who: Ada-42", "X-Team: team-"], []] {
            func get(_ p: Int) -> String { runProcess("curl", ["-s"] + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(p)/"]).output }
            XCTAssertEqual(get(port), get(caddyPort), "\(headers)")
        }
        XCTAssertEqual(runProcess("curl", ["-s", "-H", "X-Who: ada-42", "http://127.0.0.1:\(port)/"]).output, "var ada/42")
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(port)/"]).output, "unset reads as <nil>")
        await server.stop()
    }
}
