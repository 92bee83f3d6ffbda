import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// A throw-away PKI made with the `openssl` CLI at test time, once per test process:
/// a server CA with leaf certificates for SNI tests, and client CAs with client certificates.
final class TestPKI: Sendable {
    let dir: String

    /// The shared instance (ECDSA P-256 keys: generating them takes milliseconds).
    static let shared: TestPKI? = try? TestPKI()

    static func get() throws -> TestPKI {
        guard let pki = shared else { throw XCTSkip("openssl CLI not available to make test certificates") }
        return pki
    }

    private init() throws {
        var template = Array("\(NSTemporaryDirectory())/quantum-tls-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SystemErrorForTests("mkdtemp") }
        dir = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try makeCA("ca", subject: "/CN=Quantum Test CA")
        try makeLeaf("a", subject: "/CN=a.test", sans: "DNS:a.test,IP:127.0.0.1", ca: "ca")
        try makeLeaf("b", subject: "/CN=b.test", sans: "DNS:b.test,DNS:*.wild.test", ca: "ca")
        try makeLeaf("a2", subject: "/CN=a.test/O=Second", sans: "DNS:a.test", ca: "ca")
        try makeCA("clientca", subject: "/CN=Quantum Client CA")
        try makeLeaf("client", subject: "/CN=client1/O=Quantum Tests", sans: "DNS:client1", ca: "clientca", client: true)
        try makeCA("rogueca", subject: "/CN=Rogue CA")
        try makeLeaf("rogue", subject: "/CN=rogue", sans: "DNS:rogue", ca: "rogueca", client: true)
    }

    func cert(_ name: String) -> String { "\(dir)/\(name).pem" }
    func key(_ name: String) -> String { "\(dir)/\(name).key" }

    /// A CA certificate as base64 DER (Caddy's `trusted_ca_certs`).
    func base64DER(_ name: String) throws -> String {
        let out = try openssl("openssl x509 -in \(cert(name)) -outform DER | base64 -w0")
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Issues a fresh leaf (for reload tests) into `certPath`/`keyPath`.
    func issue(subject: String, sans: String, certPath: String, keyPath: String) throws {
        try openssl("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \(keyPath) -out \(keyPath).csr -subj '\(subject)'"
            + " && printf 'subjectAltName=\(sans)\\n' > \(keyPath).ext"
            + " && openssl x509 -req -in \(keyPath).csr -CA \(cert("ca")) -CAkey \(key("ca")) -CAcreateserial -out \(certPath).tmp -days 2 -extfile \(keyPath).ext"
            + " && mv \(certPath).tmp \(certPath)")
    }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \(key(name)) -out \(cert(name)) -days 2 -subj '\(subject)'")
    }

    private func makeLeaf(_ name: String, subject: String, sans: String, ca: String, client: Bool = false) throws {
        let usage = client ? "clientAuth" : "serverAuth"
        try openssl("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout \(key(name)) -out \(dir)/\(name).csr -subj '\(subject)'"
            + " && printf 'subjectAltName=\(sans)\\nextendedKeyUsage=\(usage)\\n' > \(dir)/\(name).ext"
            + " && openssl x509 -req -in \(dir)/\(name).csr -CA \(cert(ca)) -CAkey \(key(ca)) -CAcreateserial -out \(cert(name)) -days 2 -extfile \(dir)/\(name).ext")
    }

    @discardableResult
    private func openssl(_ command: String) throws -> String {
        let (status, output) = runProcess("/bin/sh", ["-c", command + " 2>&1"])
        guard status == 0 else { throw SystemErrorForTests("\(command): \(output)") }
        return output
    }
}

struct SystemErrorForTests: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// `openssl s_client` against a local port: combined output and exit status.
func sClient(port: Int, _ arguments: [String]) -> (status: Int32, output: String) {
    let args = ["-c", "openssl s_client -connect 127.0.0.1:\(port) " + arguments.joined(separator: " ") + " < /dev/null 2>&1"]
    return runProcess("/bin/sh", args, timeout: 20)
}

/// `curl` over HTTPS trusting the test CA; `resolve` maps names to 127.0.0.1.
func curlTLS(_ pki: TestPKI, port: Int, host: String = "a.test", path: String = "/", _ extra: [String] = []) -> (status: Int32, output: String) {
    runProcess("curl", ["-sS", "--max-time", "15", "--cacert", pki.cert("ca"), "--resolve", "\(host):\(port):127.0.0.1"]
               + extra + ["https://\(host):\(port)\(path)"], timeout: 20)
}

/// A one-server TLS config: certificates `a` (tag "a"), `b` (tag "b") and `a2` (tag "second",
/// same name as `a`) unless `certificates` says otherwise, and `policies` on `srv0`.
func tlsConfig(_ pki: TestPKI, policies: String = "[{}]", routes: String = defaultTLSRoutes,
               certificates: String? = nil, serverFields: String = "") -> String {
    let certs = certificates ?? """
    {"load_files": [
      {"certificate": "\(pki.cert("a"))", "key": "\(pki.key("a"))", "tags": ["a"]},
      {"certificate": "\(pki.cert("b"))", "key": "\(pki.key("b"))", "tags": ["b"]},
      {"certificate": "\(pki.cert("a2"))", "key": "\(pki.key("a2"))", "tags": ["second"]}]}
    """
    let extra = serverFields.isEmpty ? "" : ", " + serverFields
    return """
    {"apps": {"tls": {"certificates": \(certs)},
      "http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "tls_connection_policies": \(policies),
        "routes": \(routes)\(extra)}}}}}
    """
}

let defaultTLSRoutes = """
[{"handle": [{"handler": "static_response",
  "body": "{http.request.scheme} {http.request.tls.version} {http.request.tls.server_name} {http.request.tls.proto} {http.request.tls.cipher_suite}"}]}]
"""

/// Runs `body` against a TLS server started from `json`, and always stops it.
func withTLSServer(_ json: String, registry: ModuleRegistry = StandardModules.registry,
                   _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.start(json, registry: registry)
    do { try await body(server) } catch { await server.stop(); throw error }
    await server.stop()
}
