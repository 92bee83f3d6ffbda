import Glibc
import Synchronization

/// The certificates of `apps.tls.certificates`, shared by every TLS server of a config.
///
/// Handshakes read the current `Snapshot`; a reload from disk swaps in a new one, so a changed
/// certificate is presented from the next handshake on without a restart.
package final class CertificateStore: Sendable {
    /// An immutable set of certificates indexed by name: the loaded ones first, so a name they
    /// cover is never answered with a managed certificate (Caddy's precedence).
    final class Snapshot: Sendable {
        let certificates: [TLSCertificate]
        /// Certificates automatic HTTPS obtained (the internal issuer's).
        let managed: [TLSCertificate]
        let byName: [String: [TLSCertificate]]

        init(_ certificates: [TLSCertificate], managed: [TLSCertificate] = []) {
            self.certificates = certificates
            self.managed = managed
            var index: [String: [TLSCertificate]] = [:]
            for cert in certificates + managed { for name in cert.names { index[name, default: []].append(cert) } }
            byName = index
        }
    }

    private let current: Mutex<Snapshot>
    let source: CertificateSource

    init(source: CertificateSource) throws(ConfigError) {
        self.source = source
        current = Mutex(Snapshot(try source.load()))
    }

    var snapshot: Snapshot { current.withLock { $0 } }

    /// Reloads every certificate when a file behind one changed; a failed reload keeps the old
    /// set (and says why on stderr), so a half-written file never takes a site down.
    func reloadIfChanged(previous: inout [FileStamp]) {
        let stamps = source.stamps()
        guard stamps != previous else { return }
        previous = stamps
        do {
            let loaded = try source.load()
            current.withLock { $0 = Snapshot(loaded, managed: $0.managed) }
        } catch {
            let message = "quantum: keeping the loaded certificates: reload failed: \(error)\n"
            _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
        }
    }

    /// Puts `certificate` in place of the managed one for the same first name (a renewal) or
    /// beside the others.
    func setManaged(_ certificate: TLSCertificate, for name: String) {
        current.withLock { snap in
            var managed = snap.managed.filter { $0.names.first != name }
            managed.append(certificate)
            snap = Snapshot(snap.certificates, managed: managed)
        }
    }

    /// Whether a loaded (not managed) certificate covers `name`.
    func hasLoadedCertificate(for name: String) -> Bool {
        let snap = snapshot
        return lookup(name, isEligible: { cert in snap.certificates.contains { $0 === cert } }) != nil
    }

    /// The certificate to present for `serverName` among those `isEligible` accepts: an exact
    /// name, then a wildcard one label up (as Caddy's certificate cache).
    func lookup(_ serverName: String, isEligible: (TLSCertificate) -> Bool) -> TLSCertificate? {
        let snap = snapshot
        if let found = snap.byName[serverName]?.first(where: isEligible) { return found }
        if let dot = serverName.firstIndex(of: ".") {
            let wildcard = "*" + serverName[dot...]
            if let found = snap.byName[wildcard]?.first(where: isEligible) { return found }
        }
        return nil
    }
}

/// A file's identity for change detection.
struct FileStamp: Equatable, Sendable {
    let path: String
    let mtime: Int
    let size: Int
}

/// Where the certificates come from: files, inline PEM and folders, with the JSON paths to blame.
struct CertificateSource: Sendable {
    let files: [(certificate: String, key: String, tags: [String], path: String)]
    let pems: [(certificate: [UInt8], key: [UInt8], tags: [String], path: String)]
    let folders: [(folder: String, path: String)]

    init(_ config: TLSAppConfig?, workingDirectory: String) {
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : workingDirectory + "/" + p }
        let base = ConfigPath.format(config?.path ?? []) + ".certificates"
        let certs = config?.certificates
        files = (certs?.loadFiles ?? []).enumerated().map { i, f in
            (absolute(f.certificate), absolute(f.key), f.tags, base + ".load_files[\(i)]")
        }
        pems = (certs?.loadPEM ?? []).enumerated().map { i, p in
            (Array(p.certificate.utf8), Array(p.key.utf8), p.tags, base + ".load_pem[\(i)]")
        }
        folders = (certs?.loadFolders ?? []).enumerated().map { i, f in (absolute(f), base + ".load_folders[\(i)]") }
    }

    var isEmpty: Bool { files.isEmpty && pems.isEmpty && folders.isEmpty }

    /// Reads and parses everything; the first problem names its JSON path.
    func load() throws(ConfigError) -> [TLSCertificate] {
        var out: [TLSCertificate] = []
        for f in files {
            let certPEM: [UInt8], keyPEM: [UInt8]
            do { certPEM = try FileIO.readAll(f.certificate) } catch { throw ConfigError(path: f.path + ".certificate", "\(error)") }
            do { keyPEM = try FileIO.readAll(f.key) } catch { throw ConfigError(path: f.path + ".key", "\(error)") }
            do { out.append(try TLSCertificate.parse(certificatePEM: certPEM, keyPEM: keyPEM, tags: f.tags)) } catch {
                throw ConfigError(path: f.path, "\(f.certificate): \(error)")
            }
        }
        for p in pems {
            do { out.append(try TLSCertificate.parse(certificatePEM: p.certificate, keyPEM: p.key, tags: p.tags)) } catch {
                throw ConfigError(path: p.path, "\(error)")
            }
        }
        for f in folders {
            guard FileIO.isDirectory(f.folder) else { throw ConfigError(path: f.path, "\(f.folder) is not a directory") }
            for file in Self.pemFiles(in: f.folder) {
                do {
                    let bundle = try FileIO.readAll(file)
                    out.append(try TLSCertificate.parse(certificatePEM: bundle, keyPEM: bundle, tags: []))
                } catch {
                    throw ConfigError(path: f.path, "\(file): \(error)")
                }
            }
        }
        return out
    }

    /// Every file behind the certificates, with its modification time and size.
    func stamps() -> [FileStamp] {
        var paths = files.flatMap { [$0.certificate, $0.key] }
        for f in folders { paths += Self.pemFiles(in: f.folder) }
        return paths.map { p in
            var st = stat()
            guard stat(p, &st) == 0 else { return FileStamp(path: p, mtime: -1, size: -1) }
            return FileStamp(path: p, mtime: st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec, size: Int(st.st_size))
        }
    }

    /// `.pem` files under `folder`, recursively, in a stable order (Caddy's folder loader: each
    /// file holds a certificate and its key).
    static func pemFiles(in folder: String) -> [String] {
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let full = folder + "/" + name
            if FileIO.isDirectory(full) { out += pemFiles(in: full) } else if name.lowercased().hasSuffix(".pem") { out.append(full) }
        }
        return out.sorted()
    }
}
