import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Automatic HTTPS end to end with curl: host-matched sites served over TLS with the local CA's
/// certificates, 308 redirects from `http_port`, and `disable`, `disable_redirects`, `skip`,
/// `skip_certificates`. Fixed free ports stand for 80 and 443.
final class AutomaticHTTPSTests: XCTestCase {
    var dir = ""
    var httpPort = 0
    var httpsPort = 0

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "quantum-autohttps-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        httpPort = freePort()
        repeat { httpsPort = freePort() } while httpsPort == httpPort
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    var rootPath: String { dir + "/pki/authorities/local/root.crt" }

    /// `srv0` on the HTTPS port with a site for `hosts`; `extraServers` are added beside it.
    func config(hosts: [String] = ["localhost", "a.test"], auto: String? = nil, extraServers: String = "", tls: String = "") -> String {
        let names = hosts.map { "\"\($0)\"" }.joined(separator: ", ")
        let autoJSON = auto.map { #", "automatic_https": \#($0)"# } ?? ""
        let tlsJSON = tls.isEmpty ? "" : #""tls": \#(tls), "#
        return """
        {"storage": {"module": "file_system", "root": "\(dir)"},
         "apps": {\(tlsJSON)"http": {"http_port": \(httpPort), "https_port": \(httpsPort), "servers": {
           "srv0": {"listen": ["127.0.0.1:\(httpsPort)"]\(autoJSON),
             "routes": [{"match": [{"host": [\(names)]}],
                         "handle": [{"handler": "static_response", "body": "{http.request.scheme} {http.request.host}"}]}]}
           \(extraServers)}}}}
        """
    }

    func start(_ json: String) async throws -> TestServer { try await TestServer.start(json) }

    func https(_ host: String, port: Int? = nil, path: String = "/") -> (status: Int32, output: String) {
        let p = port ?? httpsPort
        return runProcess("curl", ["-sS", "--max-time", "10", "--cacert", rootPath, "--resolve", "\(host):\(p):127.0.0.1", "https://\(host):\(p)\(path)"])
    }

    /// Status code and Location of a plain-HTTP request to the HTTP port.
    func plain(_ host: String, path: String = "/", port: Int? = nil) -> String {
        let p = port ?? httpPort
        return runProcess("curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                   "--resolve", "\(host):\(p):127.0.0.1", "http://\(host):\(p)\(path)"]).output
    }

    func testHostMatchedSiteIsServedOverHTTPSWithTheLocalCA() async throws {
        let server = try await start(config())
        defer { Task { await server.stop() } }
        XCTAssertEqual(https("a.test").output, "https a.test")
        XCTAssertEqual(https("localhost").output, "https localhost")
        XCTAssertTrue(FileManager.default.fileExists(atPath: rootPath))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/certificates/local/a.test/a.test.crt"))
        // Without trusting the root, curl refuses: the certificate really comes from the local CA.
        let untrusted = runProcess("curl", ["-sS", "--resolve", "a.test:\(httpsPort):127.0.0.1", "https://a.test:\(httpsPort)/"])
        XCTAssertNotEqual(untrusted.status, 0, untrusted.output)
        let verify = runProcess("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(httpsPort) -servername a.test -CAfile \(rootPath) -verify_return_error -verify_hostname a.test -brief < /dev/null 2>&1"])
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.output.contains("Verification: OK"), verify.output)
        await server.stop()
    }

    func testHTTPPortRedirectsWith308() async throws {
        let other = freePort()
        let server = try await start(config(extraServers: """
        , "srv1": {"listen": ["127.0.0.1:\(other)"], "routes": [{"match": [{"host": ["b.test"]}], "handle": [{"handler": "static_response", "body": "b"}]}]}
        """))
        XCTAssertEqual(plain("a.test", path: "/x/y?z=1&w=%20"), "308 https://a.test/x/y?z=1&w=%20", "the https_port is left out of Location, as Caddy")
        XCTAssertEqual(plain("localhost"), "308 https://localhost/")
        XCTAssertEqual(plain("b.test", path: "/p"), "308 https://b.test:\(other)/p", "another port is named")
        XCTAssertEqual(plain("unknown.test"), "200 ", "names no site claims are not redirected")
        XCTAssertEqual(https("b.test", port: other).output, "b")
        XCTAssertEqual(server.app.servers.map(\.name), ["remaining_auto_https_redirects", "srv0", "srv1"])
        await server.stop()
    }

    func testRedirectRoutesJoinAServerAlreadyOnTheHTTPPort() async throws {
        let server = try await start(config(extraServers: """
        , "plain": {"listen": ["127.0.0.1:\(httpPort)"], "routes": [
            {"match": [{"host": ["other.test"]}], "handle": [{"handler": "static_response", "body": "other"}]},
            {"handle": [{"handler": "static_response", "body": "fallback"}]}]}
        """))
        XCTAssertEqual(plain("a.test", path: "/q"), "308 https://a.test/q", "redirects come before the catch-all")
        let other = runProcess("curl", ["-sS", "--resolve", "other.test:\(httpPort):127.0.0.1", "http://other.test:\(httpPort)/"])
        XCTAssertEqual(other.output, "other")
        let fallback = runProcess("curl", ["-sS", "--resolve", "x.test:\(httpPort):127.0.0.1", "http://x.test:\(httpPort)/"])
        XCTAssertEqual(fallback.output, "fallback")
        XCTAssertEqual(server.app.servers.map(\.name), ["plain", "srv0"])
        await server.stop()
    }

    func testDisableLeavesTheServerPlainHTTP() async throws {
        let server = try await start(config(auto: #"{"disable": true}"#))
        let r = runProcess("curl", ["-sS", "--resolve", "a.test:\(httpsPort):127.0.0.1", "http://a.test:\(httpsPort)/"])
        XCTAssertEqual(r.output, "http a.test")
        XCTAssertEqual(server.app.servers.map(\.name), ["srv0"], "no redirect server")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/pki"), "no CA is made")
        await server.stop()
    }

    func testPortZeroAndHostlessServersStayPlain() async throws {
        let server = try await TestServer.start("""
        {"storage": {"module": "file_system", "root": "\(dir)"}, "apps": {"http": {"servers": {
          "srv0": {"listen": ["127.0.0.1:0"], "routes": [{"match": [{"host": ["a.test"]}], "handle": [{"handler": "static_response", "body": "{http.request.scheme}"}]}]},
          "srv1": {"listen": ["127.0.0.1:\(httpsPort)"], "routes": [{"handle": [{"handler": "static_response", "body": "{http.request.scheme}"}]}]}}}}}
        """)
        let zero = runProcess("curl", ["-sS", "-H", "Host: a.test", "http://127.0.0.1:\(server.port)/"])
        XCTAssertEqual(zero.output, "http")
        XCTAssertEqual(runProcess("curl", ["-sS", "http://127.0.0.1:\(httpsPort)/"]).output, "http")
        XCTAssertEqual(server.app.servers.map(\.name), ["srv0", "srv1"])
        await server.stop()
    }

    func testDisableRedirectsKeepsHTTPSWithoutTheRedirectServer() async throws {
        let server = try await start(config(auto: #"{"disable_redirects": true}"#))
        XCTAssertEqual(https("a.test").output, "https a.test")
        XCTAssertEqual(server.app.servers.map(\.name), ["srv0"])
        XCTAssertEqual(plain("a.test"), "000 ", "nothing listens on the HTTP port")
        await server.stop()
    }

    func testSkipAndSkipCertificates() async throws {
        // skip: a.test is neither certified nor redirected.
        var server = try await start(config(auto: #"{"skip": ["a.test"]}"#))
        XCTAssertEqual(https("localhost").output, "https localhost")
        XCTAssertEqual(plain("localhost"), "308 https://localhost/")
        XCTAssertEqual(plain("a.test"), "200 ")
        XCTAssertNotEqual(https("a.test").status, 0, "no certificate for a skipped name")
        await server.stop()
        // Every name skipped: the server stays plain HTTP.
        server = try await start(config(hosts: ["a.test"], auto: #"{"skip": ["a.test"]}"#))
        let r = runProcess("curl", ["-sS", "--resolve", "a.test:\(httpsPort):127.0.0.1", "http://a.test:\(httpsPort)/"])
        XCTAssertEqual(r.output, "http a.test")
        await server.stop()
        // skip_certificates: redirected, but no certificate is made for it.
        server = try await start(config(auto: #"{"skip_certificates": ["a.test"]}"#))
        XCTAssertEqual(plain("a.test"), "308 https://a.test/")
        XCTAssertEqual(https("localhost").output, "https localhost")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/certificates/local/a.test"))
        await server.stop()
    }

    func testCertificatesAreReusedAcrossRestartsAndRenewedBeforeExpiry() async throws {
        var server = try await start(config())
        let leafPath = dir + "/certificates/local/a.test/a.test.crt"
        let root = try String(contentsOfFile: rootPath, encoding: .utf8)
        let leaf = try String(contentsOfFile: leafPath, encoding: .utf8)
        await server.stop()
        server = try await start(config())
        XCTAssertEqual(try String(contentsOfFile: rootPath, encoding: .utf8), root)
        XCTAssertEqual(try String(contentsOfFile: leafPath, encoding: .utf8), leaf, "the cached leaf is served again")
        XCTAssertEqual(https("a.test").output, "https a.test")
        await server.stop()

        // A 6 s lifetime checked every 200 ms: renewed once less than 2 s is left. (The cached
        // 12 h leaf would still be good under the new policy: start from no leaves.)
        try FileManager.default.removeItem(atPath: dir + "/certificates")
        let short = #"{"automation": {"renew_interval": "200ms", "policies": [{"subjects": ["a.test"], "issuers": [{"module": "internal", "lifetime": "6s"}]}]}}"#
        server = try await start(config(tls: short))
        func servedSerial() -> String {
            runProcess("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(httpsPort) -servername a.test < /dev/null 2>/dev/null | openssl x509 -noout -serial"]).output
        }
        let first = servedSerial()
        XCTAssertTrue(first.hasPrefix("serial="), first)
        let expiry = runProcess("openssl", ["x509", "-in", leafPath, "-noout", "-checkend", "7"])
        XCTAssertNotEqual(expiry.status, 0, "the policy's 6 s lifetime applies: \(expiry.output)")
        try await Task.sleep(nanoseconds: 5_500_000_000)
        let second = servedSerial()
        XCTAssertNotEqual(first, second, "renewed before expiry")
        XCTAssertEqual(https("a.test").output, "https a.test")
        XCTAssertEqual(https("localhost").output, "https localhost", "the default policy (no subjects) still covers localhost")
        await server.stop()
    }

    func testTrustPrintPrintsTheRoot() async throws {
        let path = dir + "/config.json"
        try config().write(toFile: path, atomically: true, encoding: .utf8)
        let result = await CLITests.quantum(["trust", "--print", "--config", path])
        XCTAssertEqual(result.status, 0, result.err)
        let pem = try String(contentsOfFile: rootPath, encoding: .utf8)
        XCTAssertTrue(result.out.hasPrefix(rootPath + "\n"), result.out)
        XCTAssertTrue(result.out.contains(pem.trimmingCharacters(in: .newlines)), result.out)
        XCTAssertTrue(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        // Printing again shows the same root: it is made once.
        let again = await CLITests.quantum(["trust", "--print", "--config", path])
        XCTAssertEqual(again.out, result.out)
    }

    func testTrustPrintWithTheBinaryUsesQuantumDataDir() throws {
        let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let r = runProcess("/usr/bin/env", ["QUANTUM_DATA_DIR=\(dir)", binary, "trust", "--print"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.hasPrefix(rootPath + "\n-----BEGIN CERTIFICATE-----"), r.output)
    }

    func testIssuerConfigErrors() {
        for (issuer, expected) in [
            (#"{"module": "acme"}"#, #"apps.tls.automation.policies[0].issuers[0].module: the acme issuer is not supported yet"#),
            (#"{"module": "nope"}"#, #"unknown issuer "nope"; known: internal"#),
            (#"{"module": "internal", "bogus": 1}"#, #"unknown field "bogus""#),
        ] {
            let json = config(tls: #"{"automation": {"policies": [{"issuers": [\#(issuer)]}]}}"#)
            do {
                _ = try ConfigLoader.load(json: json, registry: StandardModules.registry)
                XCTFail("\(issuer) loaded")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
