import COpenSSL
import Glibc
import Synchronization

/// Obtains and renews the certificates automatic HTTPS needs, from the `internal` issuer (the
/// local CA). Each name has its own leaf, cached on disk under
/// `<storage>/certificates/<ca>/<name>/` so a restart reuses it, and issued again once less
/// than a third of its lifetime is left (Caddy's default renewal window).
final class CertificateManager: Sendable {
    struct Subject: Sendable {
        let name: String
        let issuer: IssuerConfig
        /// Seconds.
        var lifetime: Int { Int((issuer.lifetime?.nanoseconds ?? 0) / 1_000_000_000).nonZero ?? 12 * 3600 }
    }

    let subjects: [Subject]
    private let storageRoots: [String: String]
    private let settings: [String: LocalCA.Settings]
    private let authorities = Mutex<[String: LocalCA]>([:])
    /// How often renewal is checked (`automation.renew_interval`; Caddy: 10 minutes).
    let renewIntervalNanos: UInt64

    init(subjects: [Subject], config: QuantumConfig, workingDirectory: String) {
        self.subjects = subjects
        var roots: [String: String] = [:]
        var settings: [String: LocalCA.Settings] = [:]
        for id in Set(subjects.map(\.issuer.ca)) {
            roots[id] = DataDirectory.root(for: id, in: config, workingDirectory: workingDirectory)
            settings[id] = LocalCA.Settings(id: id, config.apps.pki?.certificateAuthorities[id])
        }
        storageRoots = roots
        self.settings = settings
        renewIntervalNanos = config.apps.tls?.automation?.renewInterval?.positiveNanos ?? 600_000_000_000
    }

    /// The CA with `id`, loaded (or created) on first use.
    func authority(_ id: String) throws -> LocalCA {
        if let ca = authorities.withLock({ $0[id] }) { return ca }
        let ca = try LocalCA(storageRoot: storageRoots[id]!, settings: settings[id]!)
        authorities.withLock { $0[id] = ca }
        return ca
    }

    /// Loads or issues every certificate, into `store`. Fails with the name and the reason.
    func obtainAll(into store: CertificateStore) throws {
        for subject in subjects {
            do { store.setManaged(try certificate(for: subject, forceRenewal: false), for: subject.name) } catch {
                throw TLSLoadError("automatic HTTPS: no certificate for \(subject.name): \(error)")
            }
        }
    }

    /// Renews the intermediates and the leaves in their renewal window; a failure keeps the
    /// current certificate and says why on stderr (the next check tries again).
    func renewDue(into store: CertificateStore) {
        for id in Set(subjects.map(\.issuer.ca)) {
            do { try authority(id).renewIntermediateIfNeeded() } catch { Self.warn("renewing the \(id) CA's intermediate failed: \(error)") }
        }
        for subject in subjects {
            do { store.setManaged(try certificate(for: subject, forceRenewal: false), for: subject.name) } catch {
                Self.warn("renewing the certificate for \(subject.name) failed: \(error)")
            }
        }
    }

    /// The cached leaf when it is still good, else a new one (written to disk first).
    private func certificate(for subject: Subject, forceRenewal: Bool) throws -> TLSCertificate {
        let ca = try authority(subject.issuer.ca)
        let base = directory(for: subject)
        if !forceRenewal, let cached = try? cachedCertificate(base, subject: subject, ca: ca) { return cached }
        let (chain, key) = try ca.issue(names: [subject.name], lifetime: subject.lifetime, signWithRoot: subject.issuer.signWithRoot)
        try FileIO.makeDirectories(String(base[..<base.lastIndex(of: "/")!]))
        try FileIO.writeAtomically(key, to: base + ".key", mode: 0o600)
        try FileIO.writeAtomically(chain, to: base + ".crt")
        return try TLSCertificate.parse(certificatePEM: chain, keyPEM: key, tags: [])
    }

    private func cachedCertificate(_ base: String, subject: Subject, ca: LocalCA) throws -> TLSCertificate? {
        let chainPEM = try FileIO.readAll(base + ".crt")
        let certs = try TLSCertificate.readCertificates(chainPEM)
        defer { for c in certs { X509_free(c) } }
        guard let leaf = certs.first, ca.issuedChain(certs) else { return nil }
        let notAfter = X509Certificate.seconds(X509_get0_notAfter(leaf))
        guard notAfter - SystemClock.wallSeconds() > subject.lifetime / 3 else { return nil }
        let cert = try TLSCertificate.parse(certificatePEM: chainPEM, keyPEM: try FileIO.readAll(base + ".key"), tags: [])
        return cert.names.contains(subject.name) ? cert : nil
    }

    /// `<storage>/certificates/<ca>/<name>/<name>` (`*` spelled `wildcard_`, as Caddy's storage).
    func directory(for subject: Subject) -> String {
        let safe = subject.name.replacing("*", with: "wildcard_").replacing(":", with: "_")
        return storageRoots[subject.issuer.ca]! + "/certificates/\(subject.issuer.ca)/\(safe)/\(safe)"
    }

    private static func warn(_ message: String) {
        let line = "quantum: \(message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

extension Int {
    fileprivate var nonZero: Int? { self > 0 ? self : nil }
}

extension LocalCA.Settings {
    init(id: String, _ config: CAConfig?) {
        self.init()
        self.id = id
        if let name = config?.name { self.name = name }
        rootCommonName = config?.rootCommonName
        intermediateCommonName = config?.intermediateCommonName
        if let life = config?.intermediateLifetime?.nanoseconds, life > 0 { intermediateLifetime = Int(life / 1_000_000_000) }
    }
}
