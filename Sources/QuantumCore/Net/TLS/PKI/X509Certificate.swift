import COpenSSL
import Glibc

/// One X.509 certificate (a CA's or a leaf's), with what the local CA needs to know of it.
/// `@unchecked Sendable`: the certificate is only read after init, which OpenSSL allows from any thread.
final class X509Certificate: @unchecked Sendable {
    let pointer: OpaquePointer

    init(taking pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    /// The first certificate of a PEM text.
    convenience init(pem: [UInt8]) throws(TLSLoadError) {
        let all = try TLSCertificate.readCertificates(pem)
        guard let first = all.first else { throw TLSLoadError("no PEM certificate found") }
        for extra in all.dropFirst() { X509_free(extra) }
        self.init(taking: first)
    }

    var pem: [UInt8] { PEMWriter.write { bio in PEM_write_bio_X509(bio, pointer) } }

    /// Expiry as seconds since the epoch.
    var notAfter: Int { Self.seconds(X509_get0_notAfter(pointer)) }
    var notBefore: Int { Self.seconds(X509_get0_notBefore(pointer)) }

    /// Whether `key` is this certificate's private key.
    func matches(_ key: PrivateKey) -> Bool {
        defer { ERR_clear_error() }
        return X509_check_private_key(pointer, key.pointer) == 1
    }

    /// The subject's common name ("" when absent).
    var commonName: String {
        guard let subject = X509_get_subject_name(pointer) else { return "" }
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(subject, index), let data = X509_NAME_ENTRY_get_data(entry),
              let bytes = ASN1_STRING_get0_data(data) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data))), as: UTF8.self)
    }

    static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int {
        guard let time else { return 0 }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return timegm(&parts)
    }
}
