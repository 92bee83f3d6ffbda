import Quantum
import QuantumTestSupport
import XCTest

/// `remote_ip` and `client_ip`: the peer address in CIDR ranges, IPv4 and IPv6, `private_ranges`.
final class IPMatcherTests: XCTestCase {
    func testRemoteIPTable() throws {
        let table: [([String], String, Bool)] = [
            (["10.0.0.0/8"], "10.1.2.3", true),
            (["10.0.0.0/8"], "11.0.0.1", false),
            (["192.168.1.0/24"], "192.168.1.255", true),
            (["192.168.1.0/24"], "192.168.2.1", false),
            (["192.168.1.7"], "192.168.1.7", true),
            (["192.168.1.7"], "192.168.1.8", false),
            (["192.168.1.7/32"], "192.168.1.7", true),
            (["0.0.0.0/0"], "203.0.113.9", true),
            (["0.0.0.0/0"], "::1", false),
            (["172.16.0.0/12"], "172.31.255.255", true),
            (["172.16.0.0/12"], "172.32.0.0", false),
            (["10.1.2.3/8"], "10.200.0.1", true),
            (["::1"], "::1", true),
            (["::1"], "127.0.0.1", false),
            (["2001:db8::/32"], "2001:db8:1::5", true),
            (["2001:db8::/32"], "2001:db9::5", false),
            (["fe80::/10"], "fe80::1", true),
            (["::/0"], "2001:db8::1", true),
            (["10.0.0.0/8"], "::ffff:10.0.0.1", true),
            (["10.0.0.0/8", "2001:db8::/32"], "2001:db8::1", true),
        ]
        for (ranges, remote, expected) in table {
            let json = ranges.map { "\"\($0)\"" }.joined(separator: ", ")
            let set = try matcherSet(#"{"remote_ip": {"ranges": [\#(json)]}}"#)
            XCTAssertEqual(try set.matches(request("/", remote: remote)), expected, "\(ranges) vs \(remote)")
        }
    }

    func testPrivateRanges() throws {
        let set = try matcherSet(#"{"remote_ip": {"ranges": ["private_ranges"]}}"#)
        for ip in ["192.168.0.1", "172.16.5.4", "10.9.8.7", "127.0.0.1", "127.255.0.1", "fd12::1", "::1"] {
            XCTAssertTrue(try set.matches(request("/", remote: ip)), ip)
        }
        for ip in ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1", "fe80::1"] {
            XCTAssertFalse(try set.matches(request("/", remote: ip)), ip)
        }
    }

    func testClientIPUsesThePeerWithoutTrustedProxies() throws {
        let set = try matcherSet(#"{"client_ip": {"ranges": ["10.0.0.0/8"]}}"#)
        XCTAssertTrue(try set.matches(request("/", remote: "10.0.0.5")))
        XCTAssertFalse(try set.matches(request("/", headers: [("X-Forwarded-For", "10.0.0.5")], remote: "192.0.2.1")),
                       "an untrusted peer cannot claim a client IP")
    }

    func testClientIPPrefersTheClientIPVar() throws {
        let set = try matcherSet(#"{"client_ip": {"ranges": ["10.0.0.0/8"]}}"#)
        var context = Context()
        context.vars["client_ip"] = "10.2.3.4"
        XCTAssertTrue(try set.matches(request("/", remote: "192.0.2.1"), context: &context))
    }

    func testInvalidRangesAreConfigErrors() {
        let cases: [(String, String)] = [
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("::1/129", "::1/129"),
            ("300.1.1.1", "300.1.1.1"),
            ("not-an-ip", "not-an-ip"),
            ("10.0.0.0/x", "10.0.0.0/x"),
        ]
        for (range, shown) in cases {
            XCTAssertEqual(matcherError(#"{"remote_ip": {"ranges": ["127.0.0.1", "\#(range)"]}}"#),
                           #"apps.http.servers.srv0.routes[0].match[0].remote_ip.ranges[1]: invalid IP range "\#(shown)""#)
        }
        XCTAssertEqual(matcherError(#"{"client_ip": {"ranges": ["1.2.3.4/40"]}}"#),
                       #"apps.http.servers.srv0.routes[0].match[0].client_ip.ranges[0]: invalid IP range "1.2.3.4/40""#)
    }

    func testUnknownFieldIsAConfigError() {
        XCTAssertEqual(matcherError(#"{"remote_ip": {"ranges": [], "forwarded": true}}"#),
                       #"apps.http.servers.srv0.routes[0].match[0].remote_ip: unknown field "forwarded"; known fields: ranges"#)
    }

    func testOverHTTPFromLoopback() async throws {
        let server = try await TestServer.start(routes: """
        [{"match": [{"remote_ip": {"ranges": ["127.0.0.0/8"]}}], "handle": [{"handler": "static_response", "body": "local {http.request.remote.host}"}], "terminal": true},
         {"handle": [{"handler": "static_response", "status_code": 403}]}]
        """)
        XCTAssertEqual(runProcess("curl", ["-s", "http://127.0.0.1:\(server.port)/"]).output, "local 127.0.0.1")
        await server.stop()
    }
}
