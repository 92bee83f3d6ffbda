import COpenSSL

/// An EVP_PKEY private key: generated (ECDSA P-256, as Caddy's local CA uses) or read from PEM.
/// `@unchecked Sendable`: the key is never changed after init; OpenSSL lets threads use one key at once.
final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// A new ECDSA P-256 key: fast to make and small on the wire.
    static func generateP256() throws(TLSLoadError) -> PrivateKey {
        ERR_clear_error()
        guard let key = quantum_ec_p256_key() else { throw TLSLoadError("EC key generation failed: \(OpenSSLError.drain())") }
        return PrivateKey(key)
    }

    init(pem: [UInt8]) throws(TLSLoadError) {
        ERR_clear_error()
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count))
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { ERR_clear_error(); throw TLSLoadError("no PEM private key found") }
        pointer = key
    }

    /// PKCS#8 PEM, unencrypted (the file is written with mode 0600).
    var pem: [UInt8] {
        PEMWriter.write { bio in PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) }
    }
}

/// Collects what an OpenSSL `PEM_write_bio_*` call writes into a memory BIO.
enum PEMWriter {
    static func write(_ body: (OpaquePointer?) -> Int32) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { return [] }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { ERR_clear_error(); return [] }
        var data: UnsafeMutablePointer<CChar>?
        let count = quantum_bio_mem_data(bio, &data)
        guard let data, count > 0 else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}
