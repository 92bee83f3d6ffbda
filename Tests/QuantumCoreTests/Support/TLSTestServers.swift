import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

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
