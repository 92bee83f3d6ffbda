import Foundation
import QuantumTestSupport
import XCTest

/// The `expression` matcher against Debian's caddy 2.6.2 on the same config: for each request,
/// the first route whose expression matches answers with its label, in both servers, and an
/// expression that fails to evaluate (`int()` of a missing header) fails the request with a 500.
final class ExpressionSideBySideTests: XCTestCase {
    static let expressions = [
        #"{http.request.method} == 'POST' && {http.request.uri.path}.startsWith('/api')"#,
        #"path('/admin/*') && !header({'X-Token': 'secret'})"#,
        #"{http.request.uri.path}.matches('^/v[0-9]+/') && size({http.request.uri.path}) < 10"#,
        #"int({http.request.header.X-Count}) >= 3"#,
        #"{http.request.host} in ['a.example', 'b.example'] || query({'q': '1'})"#,
        #"method('PUT', 'DELETE') || remote_ip('10.0.0.0/8')"#,
        #"{http.request.uri.path}.endsWith('.php') || {http.request.uri.query}.contains('debug')"#,
        #"{http.request.header.User-Agent}.contains('curl') ? path('/ua/*') : false"#,
        #"{http.request.header.X-Two} == 2 || ({http.request.port} > 0 && path('/port'))"#,
    ]

    static let requests: [(String, [String])] = [
        ("/api/x", ["-X", "POST"]), ("/api/x", []), ("/admin/panel", []), ("/admin/panel", ["-H", "X-Token: secret"]),
        ("/v2/x", []), ("/v2/much-longer", []), ("/count", ["-H", "X-Count: 5"]), ("/count", ["-H", "X-Count: 1"]),
        ("/host", ["-H", "Host: a.example"]), ("/q?q=1", []), ("/put", ["-X", "PUT"]), ("/x.php", []), ("/y?debug=1", []),
        ("/ua/z", []), ("/two", ["-H", "X-Two: 2", "-H", "X-Count: 0"]), ("/port", ["-H", "X-Count: 0"]), ("/nothing", []),
    ]

    func config(port: Int, admin: Int) -> String {
        let routes = Self.expressions.enumerated().map { i, e in
            #"{"match": [{"expression": \#(jsonString(e))}], "handle": [{"handler": "static_response", "body": "route \#(i)"}], "terminal": true}"#
        } + [#"{"handle": [{"handler": "static_response", "body": "none"}]}"#]
        return #"{"admin": {"listen": "127.0.0.1:\#(admin)"}, "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "routes": [\#(routes.joined(separator: ","))]}}}}}"#
    }

    func jsonString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    func answers(_ port: Int) -> [String] {
        Self.requests.map { path, extra in
            runProcess("curl", ["-s", "--max-time", "5", "-w", " %{http_code}"] + extra + ["http://127.0.0.1:\(port)\(path)"]).output
        }
    }

    func testSameAnswersAsCaddy() async throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let scratch = NSTemporaryDirectory() + "expr-side-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (caddyPort, caddyAdmin) = (try freeTCPPort(), try freeTCPPort())
        let caddy = try DebianCaddy.start(config(port: caddyPort, admin: caddyAdmin), admin: caddyAdmin, scratch: scratch)
        defer { caddy.terminate() }
        let quantum = try await TestServer.start(config(port: 0, admin: 0).replacingOccurrences(of: #""admin": {"listen": "127.0.0.1:0"}, "#, with: ""))
        let expected = answers(caddyPort)
        XCTAssertTrue(expected.contains("route 0 200") && expected.contains(" 500"), "caddy answered: \(expected)")
        let actual = answers(quantum.port)
        for (i, (want, got)) in zip(expected, actual).enumerated() {
            XCTAssertEqual(got, want, "\(Self.requests[i].0) \(Self.requests[i].1)")
        }
        await quantum.stop()
    }
}
