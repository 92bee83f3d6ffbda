import Quantum
import QuantumTestSupport
import XCTest

/// `trusted_proxies` + `client_ip_headers` feed `{http.vars.client_ip}` and the `client_ip` matcher.
final class ClientIPTests: XCTestCase {
    func get(_ port: Int, forwardedFor: String?) -> HTTPTestResponse? {
        guard let client = try? RawClient(port: port) else { return nil }
        let xff = forwardedFor.map { "X-Forwarded-For: \($0)\r\n" } ?? ""
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\(xff)\r\n")
        return client.readResponse()
    }

    let routes = """
    [{"match": [{"client_ip": {"ranges": ["203.0.113.0/24"]}}],
      "handle": [{"handler": "static_response", "body": "doc {http.vars.client_ip}"}], "terminal": true},
     {"handle": [{"handler": "static_response", "body": "other {http.vars.client_ip}"}]}]
    """

    func testTrustedPeerForwardsTheClientAddress() async throws {
        let server = try await TestServer.start(routes: routes, serverFields: """
        "trusted_proxies": {"source": "static", "ranges": ["private_ranges"]}
        """)
        XCTAssertEqual(get(server.port, forwardedFor: "203.0.113.7, 10.0.0.1")?.bodyText, "doc 203.0.113.7")
        XCTAssertEqual(get(server.port, forwardedFor: nil)?.bodyText, "other 127.0.0.1")
        XCTAssertEqual(get(server.port, forwardedFor: "not-an-ip")?.bodyText, "other 127.0.0.1")
        await server.stop()
    }

    func testStrictModeTakesTheFirstUntrustedFromTheRight() async throws {
        let server = try await TestServer.start(routes: routes, serverFields: """
        "trusted_proxies": {"source": "static", "ranges": ["127.0.0.1/8", "10.0.0.0/8"]}, "trusted_proxies_strict": 1
        """)
        XCTAssertEqual(get(server.port, forwardedFor: "198.51.100.1, 203.0.113.9, 10.0.0.2")?.bodyText, "doc 203.0.113.9")
        await server.stop()
    }

    func testUntrustedPeerIsTheClient() async throws {
        let server = try await TestServer.start(routes: routes, serverFields: """
        "trusted_proxies": {"source": "static", "ranges": ["192.0.2.0/24"]}
        """)
        XCTAssertEqual(get(server.port, forwardedFor: "203.0.113.7")?.bodyText, "other 127.0.0.1")
        await server.stop()
    }

    func testUnknownSourceIsAConfigError() {
        XCTAssertThrowsError(try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "trusted_proxies": {"source": "dns"}}}}}}
        """, registry: StandardModules.registry)) { error in
            XCTAssertEqual("\(error)", "apps.http.servers.s.trusted_proxies.source: unknown IP source \"dns\"; known: static")
        }
    }
}
