import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `map`: the same config and requests to Quantum and to Debian's `caddy` 2.6.2 must answer alike.
final class MapHandlerTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "quantum-map-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    func config(port: Int, admin: Int) -> String {
        #"""
        {"admin": {"listen": "127.0.0.1:\#(admin)"},
         "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "automatic_https": {"disable": true},
          "routes": [{"handle": [
            {"handler": "map", "source": "{http.request.uri.path}", "destinations": ["{section}", "{owner}"],
             "mappings": [
               {"input": "/docs", "outputs": ["documentation", "{http.request.method} team"]},
               {"input_regexp": "^/users/(?P<name>[a-z]+)(/(\\d+))?$", "outputs": ["user ${name} #$3", null]},
               {"input": "/zero", "outputs": [0, true]}],
             "defaults": ["other", "nobody"]},
            {"handler": "static_response", "body": "{section}|{owner}|{unset_destination}"}]}]}}}}}
        """#
    }

    func testAnswersMatchCaddys() async throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let port = freePort(), caddyPort = freePort(), admin = freePort()
        let server = try await TestServer.start(config(port: port, admin: freePort()))
        let caddy = try DebianCaddy.start(config(port: caddyPort, admin: admin), admin: admin, scratch: scratch)
        defer { caddy.terminate(); caddy.waitUntilExit() }
        for path in ["/docs", "/users/ada", "/users/ada/42", "/users/Ada", "/zero", "/elsewhere", "/docs/"] {
            let ours = runProcess("curl", ["-s", "http://127.0.0.1:\(port)\(path)"]).output
            let theirs = runProcess("curl", ["-s", "http://127.0.0.1:\(caddyPort)\(path)"]).output
            XCTAssertEqual(ours, theirs, path)
        }
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(port)/users/ada/42"]).output, "user ada #42|nobody|{unset_destination}")
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(port)/docs"]).output, "documentation|GET team|{unset_destination}")
        await server.stop()
    }

    func testConfigErrors() {
        func load(_ map: String) -> String {
            do {
                _ = try ConfigLoader.load(json: Array("""
                {"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "map", \(map)}]}]}}}}}
                """.utf8), registry: StandardModules.registry)
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertTrue(load(#""destinations": ["plain"]"#).contains("destinations[0]: a destination must be a placeholder"))
        XCTAssertTrue(load(#""destinations": ["{a}"], "mappings": [{"input": "x", "outputs": ["1", "2"]}]"#).contains("2 outputs for 1 destinations"))
        XCTAssertTrue(load(#""destinations": ["{a}"], "mappings": [{"input": "x", "outputs": ["1"]}, {"input": "x", "outputs": ["2"]}]"#)
            .contains("mappings[1]: duplicate input \"x\""))
        XCTAssertTrue(load(#""destinations": ["{a}"], "mappings": [{"input_regexp": "(", "outputs": ["1"]}]"#).contains("mappings[0].input_regexp"))
        XCTAssertEqual(load(#""source": "{http.request.host}", "destinations": ["{a}"], "mappings": [{"input": "x", "outputs": ["1"]}]"#), "")
    }
}
