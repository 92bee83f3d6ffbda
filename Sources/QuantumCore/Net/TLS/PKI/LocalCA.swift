import COpenSSL
import Glibc
import Synchronization

/// A local certificate authority like Caddy's `pki` app: a long-lived root (the certificate
/// users trust, `quantum trust`) and a short-lived intermediate that signs leaves, so the root's
/// key is used once a week at most. Both live in `<storage>/pki/authorities/<id>/` and are
/// reused across restarts; only a missing or expiring one is made anew.
package final class LocalCA: Sendable {
    public struct Settings: Sendable {
        public var id = "local"
        public var name = "Quantum Local Authority"
        public var rootCommonName: String?
        public var intermediateCommonName: String?
        /// Seconds (Caddy: 7 days).
        public var intermediateLifetime = 7 * 86_400
        /// Seconds (Caddy: 10 years).
        public var rootLifetime = 3650 * 86_400
        public init() {}
    }

    public let id: String
    public let directory: String
    public var rootCertificatePath: String { directory + "/root.crt" }
    let root: X509Certificate
    private let rootKey: PrivateKey
    private let settings: Settings
    private let intermediate: Mutex<(certificate: X509Certificate, key: PrivateKey)>


    /// Loads the CA under `storageRoot`, creating what is missing, and renews an intermediate
    /// that is past two thirds of its life.
    public init(storageRoot: String, settings: Settings = Settings()) throws {
        id = settings.id
        self.settings = settings
        directory = storageRoot + "/pki/authorities/" + settings.id
        try FileIO.makeDirectories(directory)
        let year = Self.year(SystemClock.wallSeconds())
        if let loaded = try Self.load(directory + "/root") {
            (root, rootKey) = loaded
        } else {
            let key = try PrivateKey.generateP256()
            let now = SystemClock.wallSeconds()
            var builder = CertificateBuilder(commonName: settings.rootCommonName ?? "\(settings.name) - \(year) ECC Root",
                                             organization: nil, notBefore: now - 60, notAfter: now + settings.rootLifetime)
            builder.extensions = [(NID_basic_constraints, "critical,CA:TRUE,pathlen:1"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                                  (NID_subject_key_identifier, "hash")]
            let cert = try builder.sign(publicKey: key, issuer: nil)
            try Self.store(directory + "/root", cert, key)
            (root, rootKey) = (cert, key)
        }
        let current = try Self.load(directory + "/intermediate")
        intermediate = Mutex((certificate: current?.0 ?? root, key: current?.1 ?? rootKey))
        if current == nil || !isCurrent(current!.0) { try renewIntermediate() }
    }

    /// The root certificate as PEM (what a client must trust).
    public var rootPEM: [UInt8] { root.pem }
    /// Its user-facing name (`apps.pki.certificate_authorities.<id>.name`).
    public var name: String { settings.name }

    /// The intermediate signing leaves now, and its key.
    var signer: (certificate: X509Certificate, key: PrivateKey) { intermediate.withLock { $0 } }

    /// Whether `intermediate` chains to this root and has more than a third of its life left.
    private func isCurrent(_ certificate: X509Certificate) -> Bool {
        guard let rootKey = X509_get0_pubkey(root.pointer), X509_verify(certificate.pointer, rootKey) == 1 else { ERR_clear_error(); return false }
        let life = certificate.notAfter - certificate.notBefore
        return certificate.notAfter - SystemClock.wallSeconds() > life / 3
    }

    /// Makes a new intermediate when the current one is near its end (called by the renewal loop).
    func renewIntermediateIfNeeded() throws {
        if !isCurrent(signer.certificate) { try renewIntermediate() }
    }

    private func renewIntermediate() throws {
        let key = try PrivateKey.generateP256()
        let now = SystemClock.wallSeconds()
        var builder = CertificateBuilder(commonName: settings.intermediateCommonName ?? "\(settings.name) - ECC Intermediate",
                                         organization: nil, notBefore: now - 60,
                                         notAfter: min(now + settings.intermediateLifetime, root.notAfter))
        builder.extensions = [(NID_basic_constraints, "critical,CA:TRUE,pathlen:0"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                              (NID_subject_key_identifier, "hash"), (NID_authority_key_identifier, "keyid:always")]
        let cert = try builder.sign(publicKey: key, issuer: (root, rootKey))
        try Self.store(directory + "/intermediate", cert, key)
        intermediate.withLock { $0 = (cert, key) }
    }

    /// A leaf for `names` (DNS names, `*.` wildcards, IP addresses) valid for `lifetime` seconds
    /// (never beyond the intermediate): PEM chain (leaf, intermediate) and PEM key.
    func issue(names: [String], lifetime: Int, signWithRoot: Bool = false) throws -> (chain: [UInt8], key: [UInt8]) {
        let (issuerCert, issuerKey) = signWithRoot ? (root, rootKey) : signer
        let key = try PrivateKey.generateP256()
        let now = SystemClock.wallSeconds()
        let san = names.map { SocketAddress(ip: $0, port: 0) != nil ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        var builder = CertificateBuilder(commonName: names.first.flatMap { $0.utf8.count <= 64 ? $0 : nil }, organization: nil,
                                         notBefore: now - 60, notAfter: min(now + lifetime, issuerCert.notAfter))
        builder.extensions = [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                              (NID_ext_key_usage, "serverAuth,clientAuth"), (NID_subject_key_identifier, "hash"),
                              (NID_authority_key_identifier, "keyid:always"), (NID_subject_alt_name, san)]
        let cert = try builder.sign(publicKey: key, issuer: (issuerCert, issuerKey))
        return (cert.pem + (signWithRoot ? [] : issuerCert.pem), key.pem)
    }

    /// Whether a PEM chain's issuer is this CA's current root (a leaf made by a CA since deleted
    /// and re-created must be issued again).
    func issuedChain(_ chain: [OpaquePointer]) -> Bool {
        guard let rootKey = X509_get0_pubkey(root.pointer) else { return false }
        defer { ERR_clear_error() }
        guard let top = chain.last else { return false }
        return X509_verify(top, rootKey) == 1
    }

    private static func load(_ base: String) throws -> (X509Certificate, PrivateKey)? {
        guard FileIO.exists(base + ".crt"), FileIO.exists(base + ".key") else { return nil }
        let cert = try X509Certificate(pem: try FileIO.readAll(base + ".crt"))
        let key = try PrivateKey(pem: try FileIO.readAll(base + ".key"))
        guard cert.matches(key) else { throw TLSLoadError("\(base).key does not match \(base).crt") }
        return (cert, key)
    }

    private static func store(_ base: String, _ cert: X509Certificate, _ key: PrivateKey) throws {
        try FileIO.writeAtomically(key.pem, to: base + ".key", mode: 0o600)
        try FileIO.writeAtomically(cert.pem, to: base + ".crt", mode: 0o644)
    }

    private static func year(_ seconds: Int) -> Int {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return Int(parts.tm_year) + 1900
    }
}
