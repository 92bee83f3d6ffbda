import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `apps.tls` and `tls_connection_policies` in config: errors name their JSON path; inline PEM,
/// folders, and certificates reloaded when their files change.
final class TLSConfigTests: XCTestCase {
    private func loadError(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ConfigLoader.load(json: json, registry: StandardModules.registry)
            XCTFail("expected a config error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testBadCertificatePathsNameTheirField() throws {
        let pki = try TestPKI.get()
        let missing = tlsConfig(pki, certificates: #"{"load_files": [{"certificate": "/nonexistent/a.pem", "key": "\#(pki.key("a"))"}]}"#)
        XCTAssertTrue(loadError(missing).hasPrefix("apps.tls.certificates.load_files[0].certificate: open /nonexistent/a.pem"), loadError(missing))
        let missingKey = tlsConfig(pki, certificates: #"{"load_files": [{"certificate": "\#(pki.cert("a"))", "key": "/nonexistent/a.key"}]}"#)
        XCTAssertTrue(loadError(missingKey).hasPrefix("apps.tls.certificates.load_files[0].key: open /nonexistent/a.key"), loadError(missingKey))
        let mismatch = tlsConfig(pki, certificates: #"{"load_files": [{"certificate": "\#(pki.cert("a"))", "key": "\#(pki.key("b"))"}]}"#)
        XCTAssertTrue(loadError(mismatch).contains("load_files[0]: \(pki.cert("a")): the private key does not match the certificate"), loadError(mismatch))
        let notPEM = tlsConfig(pki, certificates: #"{"load_files": [{"certificate": "\#(pki.key("a"))", "key": "\#(pki.key("a"))"}]}"#)
        XCTAssertTrue(loadError(notPEM).contains("no PEM certificate found"), loadError(notPEM))
        let badPEM = tlsConfig(pki, certificates: #"{"load_pem": [{"certificate": "nope", "key": "nope"}]}"#)
        XCTAssertEqual(loadError(badPEM), "apps.tls.certificates.load_pem[0]: no PEM certificate found")
        let folder = tlsConfig(pki, certificates: #"{"load_folders": ["/nonexistent-folder"]}"#)
        XCTAssertEqual(loadError(folder), "apps.tls.certificates.load_folders[0]: /nonexistent-folder is not a directory")
        let format = tlsConfig(pki, certificates: #"{"load_files": [{"certificate": "a", "key": "b", "format": "der"}]}"#)
        XCTAssertEqual(loadError(format), "apps.tls.certificates.load_files[0].format: unsupported format \"der\"; known: pem")
        let badCA = tlsConfig(pki, policies: #"[{"client_authentication": {"trusted_ca_certs_pem_files": ["/nonexistent/ca.pem"]}}]"#)
        XCTAssertTrue(loadError(badCA).hasPrefix("apps.http.servers.srv0.tls_connection_policies[0].client_authentication.trusted_ca_certs_pem_files[0]: open"), loadError(badCA))
    }

    func testUnknownAndInvalidPolicyFields() throws {
        let pki = try TestPKI.get()
        let base = "apps.http.servers.srv0.tls_connection_policies[0]"
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"[{"bogus": 1}]"#)).hasPrefix("\(base): unknown field \"bogus\"; known fields: alpn, certificate_selection"))
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"[{"match": {"sni": ["a"], "remote_ipx": []}}]"#)).hasPrefix("\(base).match: unknown field \"remote_ipx\""))
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"[{"client_authentication": {"trusted_leaf": []}}]"#)).hasPrefix("\(base).client_authentication: unknown field \"trusted_leaf\""))
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"[{"certificate_selection": {"tag": "x"}}]"#)).hasPrefix("\(base).certificate_selection: unknown field \"tag\""))
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"protocol_min": "tls1.1"}]"#)), "\(base).protocol_min: unknown protocol \"tls1.1\"; known: tls1.2, tls1.3")
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"protocol_min": "tls1.3", "protocol_max": "tls1.2"}]"#)), "\(base).protocol_min: protocol_min tls1.3 is above protocol_max tls1.2")
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"cipher_suites": ["TLS_AES_128_GCM_SHA256", "RC4"]}]"#)), "\(base).cipher_suites[1]: unknown cipher suite \"RC4\"")
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"curves": ["p256"]}]"#)), "\(base).curves[0]: unknown curve \"p256\"; known: x25519, secp256r1, secp384r1, secp521r1")
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"[{"client_authentication": {"mode": "always"}}]"#)).hasPrefix("\(base).client_authentication.mode: unknown mode \"always\""))
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"client_authentication": {"mode": "require_and_verify"}}]"#)),
                       "\(base).client_authentication.mode: mode require_and_verify needs trusted CA certificates")
        XCTAssertEqual(loadError(tlsConfig(pki, policies: #"[{"client_authentication": {"trusted_ca_certs": ["!!"]}}]"#)),
                       "\(base).client_authentication.trusted_ca_certs[0]: not a base64 DER certificate")
        XCTAssertTrue(loadError(tlsConfig(pki, policies: #"{}"#)).hasPrefix("apps.http.servers.srv0.tls_connection_policies: expected an array"))
    }

    func testUnknownTLSAppFieldsAndMissingCertificates() throws {
        let pki = try TestPKI.get()
        XCTAssertTrue(loadError(tlsConfig(pki, certificates: #"{"load_filez": []}"#)).hasPrefix("apps.tls.certificates: unknown field \"load_filez\""))
        let noCerts = #"{"apps": {"tls": {"certificatez": {}}, "http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"]}}}}}"#
        XCTAssertTrue(loadError(noCerts).hasPrefix("apps.tls: unknown field \"certificatez\""))
        let needCerts = #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "tls_connection_policies": [{}]}}}}}"#
        XCTAssertTrue(loadError(needCerts).hasPrefix("apps.http.servers.srv0.tls_connection_policies: TLS needs certificates"), loadError(needCerts))
        // Caddy's other apps.tls members still load.
        let caddyish = #"{"apps": {"tls": {"automation": {"policies": [{"issuers": [{"module": "internal"}]}]}, "session_tickets": {}}}}"#
        XCTAssertNoThrow(try ConfigLoader.load(json: caddyish, registry: StandardModules.registry))
    }

    func testInlinePEMAndFolders() async throws {
        let pki = try TestPKI.get()
        func json(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        let certPEM = try String(contentsOfFile: pki.cert("a"), encoding: .utf8)
        let keyPEM = try String(contentsOfFile: pki.key("a"), encoding: .utf8)
        let inline = #"{"load_pem": [{"certificate": "\#(json(certPEM))", "key": "\#(json(keyPEM))", "tags": ["inline"]}]}"#
        try await withTLSServer(tlsConfig(pki, certificates: inline)) { server in
            XCTAssertEqual(curlTLS(pki, port: server.port).status, 0)
        }
        let folder = pki.dir + "/folder-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(folder, 0o755)
        mkdir(folder + "/nested", 0o755)
        let bBundle = try String(contentsOfFile: pki.key("b"), encoding: .utf8) + String(contentsOfFile: pki.cert("b"), encoding: .utf8)
        try (certPEM + keyPEM).write(toFile: folder + "/a.pem", atomically: true, encoding: .utf8)
        try bBundle.write(toFile: folder + "/nested/b.PEM", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        try await withTLSServer(tlsConfig(pki, certificates: #"{"load_folders": ["\#(folder)"]}"#)) { server in
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("CN = a.test"))
            XCTAssertTrue(sClient(port: server.port, ["-servername", "b.test", "-brief"]).output.contains("CN = b.test"))
        }
    }

    func testCertificatesReloadWhenTheirFilesChange() async throws {
        let pki = try TestPKI.get()
        let dir = pki.dir + "/reload-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o755)
        let cert = dir + "/site.pem", key = dir + "/site.key"
        try pki.issue(subject: "/CN=a.test/O=First", sans: "DNS:a.test", certPath: cert, keyPath: key)
        let certs = #"{"load_files": [{"certificate": "\#(cert)", "key": "\#(key)"}]}"#
        try await withTLSServer(tlsConfig(pki, certificates: certs)) { server in
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("O = First"))
            // A broken file is ignored: the old certificate stays.
            try "garbage".write(toFile: cert, atomically: true, encoding: .utf8)
            try await Task.sleep(nanoseconds: 1_600_000_000)
            XCTAssertTrue(sClient(port: server.port, ["-servername", "a.test", "-brief"]).output.contains("O = First"))
            try pki.issue(subject: "/CN=a.test/O=Second", sans: "DNS:a.test", certPath: cert, keyPath: key)
            var seen = ""
            for _ in 0..<40 {
                seen = sClient(port: server.port, ["-servername", "a.test", "-brief"]).output
                if seen.contains("O = Second") { break }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
            XCTAssertTrue(seen.contains("O = Second"), "the new certificate is presented without a restart: \(seen)")
        }
    }
}
