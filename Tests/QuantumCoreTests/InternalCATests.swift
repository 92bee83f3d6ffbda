import Foundation
import Glibc
import Quantum
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// The local CA (the `internal` issuer) checked with the openssl CLI: root and intermediate made
/// once and reused, leaves that verify, loaded certificates taking precedence over managed ones.
final class InternalCATests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        var template = Array("\(NSTemporaryDirectory())/quantum-ca-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SystemErrorForTests("mkdtemp") }
        dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    var authority: String { dir + "/pki/authorities/local" }

    func shell(_ command: String) -> (status: Int32, output: String) { runProcess("/bin/sh", ["-c", command + " 2>&1"]) }

    func testRootAndIntermediateAreMadeOnceAndReusedAcrossStarts() throws {
        let first = try LocalCA(storageRoot: dir)
        XCTAssertEqual(first.rootCertificatePath, authority + "/root.crt")
        for file in ["root.crt", "root.key", "intermediate.crt", "intermediate.key"] {
            XCTAssertTrue(FileIO.exists(authority + "/" + file), file)
        }
        var st = stat()
        XCTAssertEqual(stat(authority + "/root.key", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "private keys are readable by their owner only")
        let root = try FileIO.readAll(authority + "/root.crt")
        let intermediate = try FileIO.readAll(authority + "/intermediate.crt")
        XCTAssertEqual(first.rootPEM, root)

        let second = try LocalCA(storageRoot: dir)
        XCTAssertEqual(second.rootPEM, root, "the root is reused")
        XCTAssertEqual(try FileIO.readAll(authority + "/intermediate.crt"), intermediate, "a fresh intermediate is reused")

        let verify = shell("openssl verify -CAfile \(authority)/root.crt \(authority)/intermediate.crt")
        XCTAssertEqual(verify.status, 0, verify.output)
        let text = shell("openssl x509 -in \(authority)/root.crt -noout -text").output
        XCTAssertTrue(text.contains("CA:TRUE"), text)
        XCTAssertTrue(text.contains("prime256v1") || text.contains("P-256"), text)
        XCTAssertTrue(text.contains("Subject: CN = Quantum Local Authority - 20"), text)
        XCTAssertTrue(text.contains("ECC Root"), text)
        let days = shell("openssl x509 -in \(authority)/root.crt -noout -checkend \(9 * 365 * 86_400)")
        XCTAssertEqual(days.status, 0, "the root lives about ten years: \(days.output)")
        let inter = shell("openssl x509 -in \(authority)/intermediate.crt -noout -text").output
        XCTAssertTrue(inter.contains("pathlen:0"), inter)
        XCTAssertTrue(inter.contains("ECC Intermediate"), inter)
    }

    func testAnIntermediateNearItsEndIsRenewedAndTheRootKept() throws {
        var settings = LocalCA.Settings()
        settings.intermediateLifetime = 30  // with the minute of backdating, already in its last third
        _ = try LocalCA(storageRoot: dir, settings: settings)
        let root = try FileIO.readAll(authority + "/root.crt")
        let intermediate = try FileIO.readAll(authority + "/intermediate.crt")
        _ = try LocalCA(storageRoot: dir, settings: settings)
        XCTAssertEqual(try FileIO.readAll(authority + "/root.crt"), root)
        XCTAssertNotEqual(try FileIO.readAll(authority + "/intermediate.crt"), intermediate)
        let verify = shell("openssl verify -CAfile \(authority)/root.crt \(authority)/intermediate.crt")
        XCTAssertEqual(verify.status, 0, verify.output)
    }

    func testLeavesVerifyWithOpenSSLForNamesAndIPs() throws {
        let ca = try LocalCA(storageRoot: dir)
        let (chain, key) = try ca.issue(names: ["a.test", "localhost", "*.wild.test", "127.0.0.1"], lifetime: 12 * 3600)
        XCTAssertEqual(String(decoding: chain, as: UTF8.self).components(separatedBy: "BEGIN CERTIFICATE").count - 1, 2, "leaf and intermediate")
        try Data(chain).write(to: URL(fileURLWithPath: dir + "/chain.pem"))
        try Data(key).write(to: URL(fileURLWithPath: dir + "/leaf.key"))
        let split = shell("cd \(dir) && awk '/BEGIN CERT/{n++} {print > (n==1 ? \"leaf.pem\" : \"inter.pem\")}' chain.pem")
        XCTAssertEqual(split.status, 0, split.output)
        for name in ["a.test", "localhost", "x.wild.test"] {
            let v = shell("openssl verify -CAfile \(authority)/root.crt -untrusted \(dir)/inter.pem -purpose sslserver -verify_hostname \(name) \(dir)/leaf.pem")
            XCTAssertEqual(v.status, 0, "\(name): \(v.output)")
        }
        let ip = shell("openssl verify -CAfile \(authority)/root.crt -untrusted \(dir)/inter.pem -verify_ip 127.0.0.1 \(dir)/leaf.pem")
        XCTAssertEqual(ip.status, 0, ip.output)
        let wrong = shell("openssl verify -CAfile \(authority)/root.crt -untrusted \(dir)/inter.pem -verify_hostname b.test \(dir)/leaf.pem")
        XCTAssertNotEqual(wrong.status, 0, wrong.output)
        let text = shell("openssl x509 -in \(dir)/leaf.pem -noout -text -dates").output
        XCTAssertTrue(text.contains("CA:FALSE") && text.contains("TLS Web Server Authentication"), text)
        let keyMatches = shell("test \"$(openssl x509 -in \(dir)/leaf.pem -noout -pubkey)\" = \"$(openssl pkey -in \(dir)/leaf.key -pubout)\"")
        XCTAssertEqual(keyMatches.status, 0, "the key is the leaf's")
        XCTAssertEqual(shell("openssl x509 -in \(dir)/leaf.pem -noout -checkend \(11 * 3600)").status, 0, "12 hours of life")
        XCTAssertNotEqual(shell("openssl x509 -in \(dir)/leaf.pem -noout -checkend \(13 * 3600)").status, 0, "not more")
    }

    /// A loaded certificate for a name wins: no managed certificate is made for it; with
    /// `ignore_loaded_certificates` one is.
    func testLoadedCertificatesTakePrecedence() async throws {
        let pki = try TestPKI.get()
        let port = freePort()
        func config(_ extra: String) -> String {
            """
            {"storage": {"module": "file_system", "root": "\(dir)"},
             "apps": {"tls": {"certificates": {"load_files": [{"certificate": "\(pki.cert("a"))", "key": "\(pki.key("a"))"}]}},
              "http": {"https_port": \(port), "servers": {"srv0": {"listen": ["127.0.0.1:\(port)"],
                "automatic_https": {"disable_redirects": true\(extra)},
                "routes": [{"match": [{"host": ["a.test", "localhost"]}], "handle": [{"handler": "static_response", "body": "ok"}]}]}}}}}
            """
        }
        try await withTLSServer(config("")) { server in
            let loaded = curlTLS(pki, port: port, host: "a.test")
            XCTAssertEqual(loaded.output, "ok", "a.test is answered with the loaded certificate (test CA)")
            let managed = runProcess("curl", ["-sS", "--cacert", authority + "/root.crt", "--resolve", "localhost:\(port):127.0.0.1",
                                              "https://localhost:\(port)/"])
            XCTAssertEqual(managed.output, "ok", "localhost gets a local-CA certificate")
        }
        XCTAssertFalse(FileIO.exists(dir + "/certificates/local/a.test/a.test.crt"), "no managed certificate for a loaded name")
        XCTAssertTrue(FileIO.exists(dir + "/certificates/local/localhost/localhost.crt"))
        try await withTLSServer(config(#", "ignore_loaded_certificates": true"#)) { _ in
            XCTAssertTrue(FileIO.exists(dir + "/certificates/local/a.test/a.test.crt"))
        }
    }
}
