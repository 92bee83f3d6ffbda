import Quantum
import QuantumTestSupport
import XCTest

/// Several sites from one config: servers on separate listeners, and hosts sharing one listener.
final class MultiSiteTests: XCTestCase {
    func curl(_ port: Int, _ path: String = "/", host: String? = nil, _ extra: [String] = []) -> (status: Int32, output: String) {
        var args = ["-s", "--max-time", "5"]
        if let host { args += ["-H", "Host: \(host)"] }
        return runProcess("curl", args + extra + ["http://127.0.0.1:\(port)\(path)"])
    }

    func testTwoServersOnTwoListeners() async throws {
        let server = try await TestServer.start("""
        {"apps": {"http": {"servers": {
          "alpha": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "static_response", "body": "alpha {http.request.uri.path}"}]}]},
          "beta":  {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "static_response", "status_code": 201, "body": "beta"}]}]}
        }}}}
        """)
        let alpha = try XCTUnwrap(server.app.port(of: "alpha"))
        let beta = try XCTUnwrap(server.app.port(of: "beta"))
        XCTAssertNotEqual(alpha, beta)
        XCTAssertEqual(curl(alpha, "/one").output, "alpha /one")
        XCTAssertEqual(curl(beta, "/two").output, "beta")
        XCTAssertEqual(curl(beta, "/", ["-o", "/dev/null", "-w", "%{http_code}"]).output, "201")
        await server.stop()
    }

    func testOneServerOnSeveralListeners() async throws {
        let server = try await TestServer.start("""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0", "127.0.0.1:0"],
          "routes": [{"handle": [{"handler": "static_response", "body": "same routes on {http.request.local.port}"}]}]}}}}}
        """)
        let ports = server.app.servers[0].listeners.map(\.port)
        XCTAssertEqual(ports.count, 2)
        for port in ports {
            XCTAssertEqual(curl(port).output, "same routes on \(port)")
        }
        await server.stop()
    }

    func testHostsShareOneListener() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"host": ["a.example"]}], "handle": [{"handler": "static_response", "body": "site A"}], "terminal": true},
         {"match": [{"host": ["b.example", "*.b.example"]}], "handle": [{"handler": "static_response", "body": "site B for {http.request.host}"}], "terminal": true},
         {"handle": [{"handler": "static_response", "status_code": 404, "body": "no site {http.request.host}"}]}]
        """)
        let cases: [(String, String)] = [
            ("a.example", "site A"),
            ("A.EXAMPLE", "site A"),
            ("a.example:8080", "site A"),
            ("b.example", "site B for b.example"),
            ("www.b.example", "site B for www.b.example"),
            ("x.y.b.example", "no site x.y.b.example"),
            ("c.example", "no site c.example"),
        ]
        for (host, body) in cases {
            XCTAssertEqual(curl(server.port, host: host).output, body, host)
        }
        XCTAssertEqual(curl(server.port, host: "c.example", ["-o", "/dev/null", "-w", "%{http_code}"]).output, "404")
        await server.stop()
    }

    func testSiteBlocksWithSubroutesAndSharedErrorRoutes() async throws {
        // The shape Caddy's adapter gives a Caddyfile with two site blocks on one port.
        let server = try await TestServer.start(routes: """
        [{"match": [{"host": ["a.example"]}], "terminal": true, "handle": [{"handler": "subroute", "routes": [
            {"handle": [{"handler": "headers", "response": {"set": {"X-Site": ["a"]}}}]},
            {"match": [{"path": ["/api/*"]}], "handle": [{"handler": "static_response", "body": "a api {http.request.uri.path}"}]},
            {"handle": [{"handler": "static_response", "body": "a home"}]}]}]},
         {"match": [{"host": ["b.example"]}], "terminal": true, "handle": [{"handler": "subroute", "routes": [
            {"handle": [{"handler": "rewrite", "strip_path_prefix": "/b"}]},
            {"handle": [{"handler": "static_response", "body": "b sees {http.request.uri.path}"}]}]}]},
         {"handle": [{"handler": "error", "status_code": 404, "error": "unknown site {http.request.host}"}]}]
        """, errors: """
        [{"handle": [{"handler": "static_response", "body": "{http.error.status_code}: {http.error.message}"}]}]
        """)
        XCTAssertEqual(curl(server.port, "/api/users", host: "a.example").output, "a api /api/users")
        XCTAssertEqual(curl(server.port, "/", host: "a.example").output, "a home")
        XCTAssertTrue(curl(server.port, "/", host: "a.example", ["-i"]).output.contains("X-Site: a"))
        XCTAssertEqual(curl(server.port, "/b/page", host: "b.example").output, "b sees /page")
        XCTAssertEqual(curl(server.port, "/", host: "nope.example").output, "404: unknown site nope.example")
        XCTAssertEqual(curl(server.port, "/", host: "nope.example", ["-o", "/dev/null", "-w", "%{http_code}"]).output, "404")
        await server.stop()
    }

    func testSitesByPortOnOneHost() async throws {
        // Two servers, one route list each: which listener a request arrived on picks the routes.
        let server = try await TestServer.start("""
        {"apps": {"http": {"servers": {
          "public":  {"listen": ["127.0.0.1:0"], "routes": [{"match": [{"path": ["/admin*"]}], "handle": [{"handler": "static_response", "status_code": 403}]},
                                                          {"handle": [{"handler": "static_response", "body": "public"}]}]},
          "private": {"listen": ["127.0.0.1:0"], "routes": [{"match": [{"remote_ip": {"ranges": ["127.0.0.0/8"]}}],
                                                          "handle": [{"handler": "static_response", "body": "private {http.request.uri.path}"}]}]}
        }}}}
        """)
        let publicPort = try XCTUnwrap(server.app.port(of: "public"))
        let privatePort = try XCTUnwrap(server.app.port(of: "private"))
        XCTAssertEqual(curl(publicPort, "/admin", ["-o", "/dev/null", "-w", "%{http_code}"]).output, "403")
        XCTAssertEqual(curl(publicPort, "/x").output, "public")
        XCTAssertEqual(curl(privatePort, "/admin").output, "private /admin")
        await server.stop()
    }
}
