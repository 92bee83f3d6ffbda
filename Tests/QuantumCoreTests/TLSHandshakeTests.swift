import Quantum
import QuantumTestSupport
import XCTest

/// TLS handshakes against real peers (curl, openssl s_client): SNI, versions, ALPN, ciphers.
final class TLSHandshakeTests: XCTestCase {
    func testCurlGetsHTTPSAndTheTLSPlaceholders() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let r = curlTLS(pki, port: server.port)
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertEqual(r.output, "https tls1.3 a.test h2 TLS_AES_128_GCM_SHA256")
            let tls12 = curlTLS(pki, port: server.port, ["--tls-max", "1.2"])
            XCTAssertEqual(tls12.output, "https tls1.2 a.test h2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        }
    }

    func testSNIPicksTheCertificate() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            for (name, subject) in [("a.test", "CN = a.test"), ("b.test", "CN = b.test"), ("x.wild.test", "CN = b.test"), ("A.TEST", "CN = a.test")] {
                let r = sClient(port: server.port, ["-servername", name, "-CAfile", pki.cert("ca"), "-verify_return_error", "-verify_hostname", name, "-brief"])
                XCTAssertEqual(r.status, 0, "\(name): \(r.output)")
                XCTAssertTrue(r.output.contains("Peer certificate: \(subject)"), "\(name): \(r.output)")
                XCTAssertTrue(r.output.contains("Verification: OK"), r.output)
            }
            XCTAssertEqual(curlTLS(pki, port: server.port, host: "b.test").output.prefix(22), "https tls1.3 b.test h2")
        }
    }

    func testUnknownSNIIsAHandshakeAlertAndNoSNIUsesTheLocalIP() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let unknown = sClient(port: server.port, ["-servername", "nope.test", "-brief"])
            XCTAssertNotEqual(unknown.status, 0)
            XCTAssertTrue(unknown.output.contains("unrecognized name"), unknown.output)
            // No SNI (an IP address): the certificate whose SAN holds the local IP, like Caddy.
            let bare = sClient(port: server.port, ["-noservername", "-brief"])
            XCTAssertTrue(bare.output.contains("Peer certificate: CN = a.test"), bare.output)
            let viaIP = runProcess("curl", ["-sS", "--cacert", pki.cert("ca"), "https://127.0.0.1:\(server.port)/"])
            XCTAssertEqual(viaIP.output, "https tls1.3  h2 TLS_AES_128_GCM_SHA256")
        }
    }

    func testFallbackSNIAnswersUnknownNames() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, policies: #"[{"fallback_sni": "b.test"}]"#)) { server in
            let r = sClient(port: server.port, ["-servername", "nope.test", "-brief"])
            XCTAssertTrue(r.output.contains("Peer certificate: CN = b.test"), r.output)
        }
    }

    func testTLS11IsRejectedByTheServer() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            // The client is allowed TLS 1.1 (SECLEVEL 0): the refusal must come from the server.
            let r = sClient(port: server.port, ["-servername", "a.test", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-brief"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.output.contains("alert protocol version"), r.output)
            let r10 = sClient(port: server.port, ["-servername", "a.test", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", "-brief"])
            XCTAssertTrue(r10.output.contains("alert protocol version"), r10.output)
            XCTAssertEqual(curlTLS(pki, port: server.port).status, 0)
        }
    }

    func testProtocolMinAndMax() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, policies: #"[{"protocol_max": "tls1.2"}]"#)) { server in
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("Protocol version: TLSv1.2"))
            XCTAssertNotEqual(sClient(port: server.port, ["-servername", "a.test", "-tls1_3", "-brief"]).status, 0)
        }
        try await withTLSServer(tlsConfig(pki, policies: #"[{"protocol_min": "tls1.3"}]"#)) { server in
            XCTAssertNotEqual(sClient(port: server.port, ["-servername", "a.test", "-tls1_2", "-brief"]).status, 0)
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("Protocol version: TLSv1.3"))
        }
    }

    /// h2 is offered by default (Caddy's `protocols` default); `"protocols": ["h1"]` leaves
    /// HTTP/1.1 only, and a client that offers only h2 then gets no_application_protocol.
    func testALPNNegotiatesH2ByDefaultAndHTTP11WhenH2IsOff() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-alpn", "h2,http/1.1"])
            XCTAssertTrue(r.output.contains("ALPN protocol: h2"), r.output)
            let h1 = sClient(port: server.port, ["-servername", "a.test", "-alpn", "http/1.1"])
            XCTAssertTrue(h1.output.contains("ALPN protocol: http/1.1"), h1.output)
        }
        try await withTLSServer(tlsConfig(pki, serverFields: #""protocols": ["h1"]"#)) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-alpn", "h2,http/1.1"])
            XCTAssertTrue(r.output.contains("ALPN protocol: http/1.1"), r.output)
            let h2Only = sClient(port: server.port, ["-servername", "a.test", "-alpn", "h2", "-brief"])
            XCTAssertTrue(h2Only.output.contains("no application protocol"), h2Only.output)
            let curl = curlTLS(pki, port: server.port, ["--http2", "-o", "/dev/null", "-w", "%{http_version}"])
            XCTAssertEqual(curl.output, "1.1")
            let none = sClient(port: server.port, ["-servername", "a.test"])
            XCTAssertTrue(none.output.contains("No ALPN negotiated"), none.output)
        }
    }

    func testCipherSuitesAndCurves() async throws {
        let pki = try TestPKI.get()
        let policy = #"[{"protocol_max": "tls1.2", "cipher_suites": ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"], "curves": ["secp384r1"]}]"#
        try await withTLSServer(tlsConfig(pki, policies: policy)) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-brief"])
            XCTAssertTrue(r.output.contains("Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305"), r.output)
            XCTAssertTrue(r.output.contains("Server Temp Key: ECDH, secp384r1"), r.output)
            XCTAssertTrue(curlTLS(pki, port: server.port).output.hasSuffix("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"))
            // A client without the suite cannot connect.
            let other = sClient(port: server.port, ["-servername", "a.test", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-brief"])
            XCTAssertNotEqual(other.status, 0, other.output)
        }
    }

    func testPoliciesMatchBySNI() async throws {
        let pki = try TestPKI.get()
        let policies = #"[{"match": {"sni": ["b.test", "*.wild.test"]}, "protocol_max": "tls1.2"}, {"match": {"sni": ["a.test"]}}]"#
        try await withTLSServer(tlsConfig(pki, policies: policies)) { server in
            XCTAssertTrue(sClient(port: server.port, ["-servername", "b.test", "-brief"]).output.contains("Protocol version: TLSv1.2"))
            XCTAssertTrue(sClient(port: server.port, ["-servername", "q.wild.test", "-brief"]).output.contains("Protocol version: TLSv1.2"))
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("Protocol version: TLSv1.3"))
            XCTAssertEqual(curlTLS(pki, port: server.port).output, "https tls1.3 a.test h2 TLS_AES_128_GCM_SHA256")
            // No policy matches: Caddy fails the handshake.
            let none = sClient(port: server.port, ["-noservername", "-brief"])
            XCTAssertNotEqual(none.status, 0, none.output)
        }
    }

    func testCertificateSelectionByTag() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, policies: #"[{"certificate_selection": {"any_tag": ["second"]}}]"#)) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-brief"])
            XCTAssertTrue(r.output.contains("O = Second"), r.output)
            // b.test's certificate lacks the tag: not eligible.
            XCTAssertNotEqual(sClient(port: server.port, ["-servername", "b.test", "-brief"]).status, 0)
        }
        try await withTLSServer(tlsConfig(pki, policies: #"[{"certificate_selection": {"any_tag": ["a"]}}]"#)) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-brief"])
            XCTAssertTrue(r.output.contains("Peer certificate: CN = a.test\n"), r.output)
        }
    }

    func testSessionResumption() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki, policies: #"[{"protocol_max": "tls1.2"}]"#)) { server in
            let dir = pki.dir
            _ = sClient(port: server.port, ["-servername", "a.test", "-sess_out", "\(dir)/sess"])
            let again = sClient(port: server.port, ["-servername", "a.test", "-sess_in", "\(dir)/sess"])
            XCTAssertTrue(again.output.contains("Reused, TLSv1.2"), again.output)
        }
        // Caddy's session_tickets.disabled: no resumption, every handshake a full one.
        let noTickets = tlsConfig(pki, policies: #"[{"protocol_max": "tls1.2"}]"#)
            .replacingOccurrences(of: #""tls": {"certificates""#, with: #""tls": {"session_tickets": {"disabled": true}, "certificates""#)
        try await withTLSServer(noTickets) { server in
            let r = sClient(port: server.port, ["-servername", "a.test", "-reconnect"])
            XCTAssertTrue(r.output.contains("New, TLSv1.2"), r.output)
            XCTAssertFalse(r.output.contains("Reused,"), r.output)
        }
    }
}
