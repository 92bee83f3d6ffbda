import Quantum
import QuantumTestSupport
import XCTest

/// Mutual TLS (`client_authentication`) against curl and openssl s_client.
final class TLSClientAuthTests: XCTestCase {
    private let subjectRoute = #"[{"handle": [{"handler": "static_response", "body": "{http.request.tls.client.subject}|{http.request.tls.client.issuer}|{http.request.tls.client.serial}|{http.request.tls.client.fingerprint}"}]}]"#

    func testRequireAndVerifyAcceptsATrustedClientCertificateOnly() async throws {
        let pki = try TestPKI.get()
        let policy = #"[{"client_authentication": {"trusted_ca_certs_pem_files": ["\#(pki.cert("clientca"))"]}}]"#
        try await withTLSServer(tlsConfig(pki, policies: policy, routes: subjectRoute)) { server in
            let ok = curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client")])
            XCTAssertEqual(ok.status, 0, ok.output)
            let parts = ok.output.split(separator: "|").map(String.init)
            XCTAssertEqual(parts.count, 4, ok.output)
            XCTAssertTrue(parts[0].contains("CN=client1") && parts[0].contains("O=Quantum Tests"), ok.output)
            XCTAssertEqual(parts[1], "CN=Quantum Client CA")
            XCTAssertFalse(parts[2].isEmpty)
            let fingerprint = runProcess("/bin/sh", ["-c", "openssl x509 -in \(pki.cert("client")) -noout -fingerprint -sha256"]).output
            XCTAssertEqual(parts[3], fingerprint.split(separator: "=").last!.replacingOccurrences(of: ":", with: "").lowercased()
                .trimmingCharacters(in: .whitespacesAndNewlines))

            let without = curlTLS(pki, port: server.port)
            XCTAssertNotEqual(without.status, 0, "no client certificate must be refused: \(without.output)")
            let rogue = curlTLS(pki, port: server.port, ["--cert", pki.cert("rogue"), "--key", pki.key("rogue")])
            XCTAssertNotEqual(rogue.status, 0, "an untrusted client certificate must be refused: \(rogue.output)")
            // -ign_eof: keep reading after stdin ends, so the TLS 1.3 alert that follows the handshake is seen.
            let sc = sClient(port: server.port, ["-servername", "a.test", "-brief", "-ign_eof"])
            XCTAssertTrue(sc.output.contains("certificate required"), sc.output)
            // Still serving.
            XCTAssertEqual(curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client")]).status, 0)
        }
    }

    func testTrustedCACertsAsBase64DER() async throws {
        let pki = try TestPKI.get()
        let policy = #"[{"client_authentication": {"trusted_ca_certs": ["\#(try pki.base64DER("clientca"))"], "mode": "require_and_verify"}}]"#
        try await withTLSServer(tlsConfig(pki, policies: policy, routes: subjectRoute)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client")]).status, 0)
            XCTAssertNotEqual(curlTLS(pki, port: server.port).status, 0)
        }
    }

    func testVerifyIfGivenAndRequest() async throws {
        let pki = try TestPKI.get()
        let verifyIfGiven = #"[{"client_authentication": {"trusted_ca_certs_pem_files": ["\#(pki.cert("clientca"))"], "mode": "verify_if_given"}}]"#
        try await withTLSServer(tlsConfig(pki, policies: verifyIfGiven, routes: subjectRoute, serverFields: #""strict_sni_host": false"#)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port).output, "|||", "no certificate is fine")
            XCTAssertEqual(curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client")]).status, 0)
            XCTAssertNotEqual(curlTLS(pki, port: server.port, ["--cert", pki.cert("rogue"), "--key", pki.key("rogue")]).status, 0)
        }
        let request = #"[{"client_authentication": {"mode": "request"}}]"#
        try await withTLSServer(tlsConfig(pki, policies: request, routes: subjectRoute, serverFields: #""strict_sni_host": false"#)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port).status, 0)
            let rogue = curlTLS(pki, port: server.port, ["--cert", pki.cert("rogue"), "--key", pki.key("rogue")])
            XCTAssertTrue(rogue.output.hasPrefix("CN=rogue|CN=Rogue CA|"), "request mode accepts any certificate: \(rogue.output)")
        }
    }

    func testStrictSNIHostDefaultsOnWithClientAuth() async throws {
        let pki = try TestPKI.get()
        let policy = #"[{"client_authentication": {"trusted_ca_certs_pem_files": ["\#(pki.cert("clientca"))"]}}]"#
        try await withTLSServer(tlsConfig(pki, policies: policy, routes: subjectRoute)) { server in
            let mismatch = curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client"),
                                                            "-H", "Host: b.test", "-o", "/dev/null", "-w", "%{http_code}"])
            XCTAssertEqual(mismatch.output, "421")
            let match = curlTLS(pki, port: server.port, ["--cert", pki.cert("client"), "--key", pki.key("client"),
                                                         "-H", "Host: A.test:\(server.port)", "-o", "/dev/null", "-w", "%{http_code}"])
            XCTAssertEqual(match.output, "200")
        }
        // Without client authentication the check is off unless asked for.
        try await withTLSServer(tlsConfig(pki)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port, ["-H", "Host: b.test", "-o", "/dev/null", "-w", "%{http_code}"]).output, "200")
        }
        try await withTLSServer(tlsConfig(pki, serverFields: #""strict_sni_host": true"#)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port, ["-H", "Host: b.test", "-o", "/dev/null", "-w", "%{http_code}"]).output, "421")
        }
    }

    func testResumedSessionDoesNotSkipAnotherPolicysClientAuth() async throws {
        let pki = try TestPKI.get()
        // b.test requires a client certificate; a.test does not. A session from a.test must not
        // resume into b.test's policy.
        let policies = #"[{"match": {"sni": ["b.test"]}, "protocol_max": "tls1.2", "client_authentication": {"trusted_ca_certs_pem_files": ["\#(pki.cert("clientca"))"]}}, {"protocol_max": "tls1.2"}]"#
        try await withTLSServer(tlsConfig(pki, policies: policies)) { server in
            let first = sClient(port: server.port, ["-servername", "a.test", "-sess_out", "\(pki.dir)/sess-a"])
            XCTAssertEqual(first.status, 0, first.output)
            let cross = sClient(port: server.port, ["-servername", "b.test", "-sess_in", "\(pki.dir)/sess-a"])
            XCTAssertFalse(cross.output.contains("Reused,"), cross.output)
        }
    }
}
