import COpenSSL
import Glibc

/// A loaded certificate: leaf, private key, intermediate chain, the names it is valid for and its
/// config tags. Immutable and shared by every handshake that presents it.
/// `@unchecked Sendable`: its OpenSSL objects are only read (handshakes take their own references).
final class TLSCertificate: @unchecked Sendable {
    let leaf: OpaquePointer
    let key: OpaquePointer
    let chain: OpaquePointer
    /// Lowercased DNS names (subject CN and SAN DNS entries, wildcards as `*.example.com`) and
    /// IP addresses as text, as Caddy's certificate cache indexes them.
    let names: [String]
    let tags: [String]

    private init(leaf: OpaquePointer, key: OpaquePointer, chain: OpaquePointer, names: [String], tags: [String]) {
        self.leaf = leaf
        self.key = key
        self.chain = chain
        self.names = names
        self.tags = tags
    }

    deinit {
        X509_free(leaf)
        EVP_PKEY_free(key)
        quantum_x509_chain_free(chain)
    }

    /// Parses a PEM certificate chain (leaf first) and a PEM private key that must match it.
    /// Both may be the same bytes (a bundle, as in `load_folders`).
    static func parse(certificatePEM: [UInt8], keyPEM: [UInt8], tags: [String]) throws(TLSLoadError) -> TLSCertificate {
        ERR_clear_error()
        let certs = try readCertificates(certificatePEM)
        guard let leaf = certs.first else { throw TLSLoadError("no PEM certificate found") }
        let chain = quantum_x509_chain_new()!
        for c in certs.dropFirst() { _ = quantum_x509_chain_push(chain, c) }
        let key: OpaquePointer? = keyPEM.withUnsafeBytes { raw in
            let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            X509_free(leaf); quantum_x509_chain_free(chain)
            ERR_clear_error()
            throw TLSLoadError("no PEM private key found")
        }
        guard X509_check_private_key(leaf, key) == 1 else {
            X509_free(leaf); quantum_x509_chain_free(chain); EVP_PKEY_free(key)
            ERR_clear_error()
            throw TLSLoadError("the private key does not match the certificate")
        }
        return TLSCertificate(leaf: leaf, key: key, chain: chain, names: names(of: leaf), tags: tags)
    }

    /// Every certificate in a PEM text, in order (other PEM blocks, such as keys, are skipped).
    static func readCertificates(_ pem: [UInt8]) throws(TLSLoadError) -> [OpaquePointer] {
        var certs: [OpaquePointer] = []
        pem.withUnsafeBytes { raw in
            let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))
            defer { BIO_free(bio) }
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { certs.append(cert) }
        }
        ERR_clear_error()  // the end of the input is reported as an error
        return certs
    }

    /// Whether the certificate may be chosen under a policy's `certificate_selection`.
    func isSelected(anyTag: [String]?, allTags: [String]?) -> Bool {
        if let anyTag, !anyTag.isEmpty, !anyTag.contains(where: tags.contains) { return false }
        if let allTags, !allTags.allSatisfy(tags.contains) { return false }
        return true
    }

    private static func names(of cert: OpaquePointer) -> [String] {
        var out: [String] = []
        if let subject = X509_get_subject_name(cert) {
            let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
            if index >= 0, let entry = X509_NAME_get_entry(subject, index), let data = X509_NAME_ENTRY_get_data(entry) {
                let cn = string(data).lowercased()
                if !cn.isEmpty { out.append(cn) }
            }
        }
        if let san = quantum_x509_san(cert) {
            defer { quantum_san_free(san) }
            for i in 0..<quantum_san_count(san) {
                guard let name = quantum_san_at(san, i) else { continue }
                switch name.pointee.type {
                case GEN_DNS:
                    let dns = string(name.pointee.d.dNSName).lowercased()
                    if !dns.isEmpty && !out.contains(dns) { out.append(dns) }
                case GEN_IPADD:
                    let bytes = octets(name.pointee.d.iPAddress)
                    if bytes.count == 4 || bytes.count == 16 { out.append(IPAddress.format(bytes)) }
                default: break
                }
            }
        }
        return out
    }

    private static func string(_ s: UnsafeMutablePointer<ASN1_STRING>?) -> String {
        String(decoding: octets(s), as: UTF8.self)
    }

    private static func octets(_ s: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8] {
        guard let s, let data = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(s))))
    }
}

/// Why a certificate or key could not be loaded.
struct TLSLoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
