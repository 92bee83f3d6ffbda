import COpenSSL
import Glibc

/// Builds and signs X.509 v3 certificates with OpenSSL's C API: the local CA's root and
/// intermediate and the leaves it issues. SHA-256 signatures, random 128-bit serials.
struct CertificateBuilder {
    var commonName: String?
    var organization: String?
    var notBefore: Int
    var notAfter: Int
    /// `(NID, value)` in OpenSSL's config syntax, e.g. `(NID_basic_constraints, "critical,CA:TRUE")`.
    /// Order matters: the subject key identifier before the authority key identifier.
    var extensions: [(Int32, String)] = []

    /// Signs a certificate for `publicKey`; `issuer` nil makes it self-signed (a root).
    func sign(publicKey: PrivateKey, issuer: (certificate: X509Certificate, key: PrivateKey)?) throws(TLSLoadError) -> X509Certificate {
        ERR_clear_error()
        guard let cert = X509_new() else { throw TLSLoadError(OpenSSLError.drain()) }
        let result = X509Certificate(taking: cert)
        func check(_ ok: Bool, _ what: String) throws(TLSLoadError) {
            if !ok { throw TLSLoadError("\(what): \(OpenSSLError.drain())") }
        }
        try check(X509_set_version(cert, 2) == 1, "version")
        try check(Self.randomSerial(into: X509_get_serialNumber(cert)), "serial")
        try check(ASN1_TIME_set(X509_getm_notBefore(cert), time_t(notBefore)) != nil, "notBefore")
        try check(ASN1_TIME_set(X509_getm_notAfter(cert), time_t(notAfter)) != nil, "notAfter")
        let subject = X509_get_subject_name(cert)
        if let organization { try check(Self.add("O", organization, to: subject), "subject O") }
        if let commonName { try check(Self.add("CN", commonName, to: subject), "subject CN") }
        let issuerName = issuer.map { X509_get_subject_name($0.certificate.pointer) } ?? subject
        try check(X509_set_issuer_name(cert, issuerName) == 1, "issuer")
        try check(X509_set_pubkey(cert, publicKey.pointer) == 1, "public key")
        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, issuer?.certificate.pointer ?? cert, cert, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else { throw TLSLoadError("extension \(value): \(OpenSSLError.drain())") }
            defer { X509_EXTENSION_free(ext) }
            try check(X509_add_ext(cert, ext, -1) == 1, "extension \(value)")
        }
        let signer = issuer?.key ?? publicKey
        try check(X509_sign(cert, signer.pointer, EVP_sha256()) > 0, "signature")
        return result
    }

    private static func add(_ field: String, _ value: String, to name: OpaquePointer?) -> Bool {
        X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, value, -1, -1, 0) == 1
    }

    /// A positive 128-bit random serial (RFC 5280 allows up to 20 octets).
    private static func randomSerial(into serial: UnsafeMutablePointer<ASN1_INTEGER>?) -> Bool {
        guard let bn = BN_new() else { return false }
        defer { BN_free(bn) }
        return BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 && BN_to_ASN1_INTEGER(bn, serial) != nil
    }
}
