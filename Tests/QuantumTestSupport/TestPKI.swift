import Foundation
import Glibc
import XCTest

/// A throw-away PKI made with the `openssl` CLI at test time, once per test process:
/// a server CA with leaf certificates for SNI tests, and client CAs with client certificates.
public final class TestPKI: Sendable {
    public let dir: String

    /// The shared instance (ECDSA P-256 keys: generating them takes milliseconds).
    public static let shared: TestPKI? = try? TestPKI()

    public static func get() throws -> TestPKI {
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

    public func cert(_ name: String) -> String { "\(dir)/\(name).pem" }
    public func key(_ name: String) -> String { "\(dir)/\(name).key" }

    /// A CA certificate as base64 DER (Caddy's `trusted_ca_certs`).
    public func base64DER(_ name: String) throws -> String {
        let out = try openssl("openssl x509 -in \(cert(name)) -outform DER | base64 -w0")
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Issues a fresh leaf (for reload tests) into `certPath`/`keyPath`.
    public func issue(subject: String, sans: String, certPath: String, keyPath: String) throws {
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

/// A failed setup step (a command, a temporary directory) in test support.
public struct SystemErrorForTests: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

