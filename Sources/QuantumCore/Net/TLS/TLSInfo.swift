import COpenSSL

/// What a finished TLS handshake agreed on, for handlers and placeholders
/// (`{http.request.tls.*}`). Made once per connection.
public final class TLSInfo: Sendable {
    /// `tls1.2` or `tls1.3`, Caddy's names.
    public let version: String
    /// The IANA name, as Go reports it (`TLS_AES_128_GCM_SHA256`).
    public let cipherSuite: String
    /// The SNI the client sent, lowercased ("" without one).
    public let serverName: String
    /// The ALPN protocol agreed on ("" without one).
    public let applicationProtocol: String
    /// True when the handshake resumed an earlier session (`{http.request.tls.resumed}`).
    public let resumed: Bool
    /// The client's certificate (DER), when it sent one (mutual TLS).
    public let clientCertificate: [UInt8]?
    /// The version and cipher suite as their IANA numbers (0x0304, 0x1301), for access logs.
    package let versionNumber: Int
    package let cipherSuiteID: Int

    /// For tests and custom listeners; the server builds these itself from the OpenSSL session.
    public convenience init(version: String, cipherSuite: String, serverName: String, applicationProtocol: String,
                            resumed: Bool, clientCertificate: [UInt8]?) {
        self.init(version: version, cipherSuite: cipherSuite, serverName: serverName, applicationProtocol: applicationProtocol,
                  resumed: resumed, clientCertificate: clientCertificate, versionNumber: 0, cipherSuiteID: 0)
    }

    package init(version: String, cipherSuite: String, serverName: String, applicationProtocol: String,
                 resumed: Bool, clientCertificate: [UInt8]?, versionNumber: Int, cipherSuiteID: Int) {
        self.versionNumber = versionNumber
        self.cipherSuiteID = cipherSuiteID
        self.version = version
        self.cipherSuite = cipherSuite
        self.serverName = serverName
        self.applicationProtocol = applicationProtocol
        self.resumed = resumed
        self.clientCertificate = clientCertificate
    }

    /// Reads the agreed parameters off an established connection.
    convenience init(ssl: OpaquePointer) {
        let cipher = SSL_get_current_cipher(ssl)
        let suite = cipher.flatMap { SSL_CIPHER_standard_name($0) ?? SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? ""
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0).lowercased() } ?? ""
        var alpnData: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnData, &alpnLength)
        let alpn = alpnData.map { String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) } ?? ""
        var der: [UInt8]?
        if let peer = SSL_get0_peer_certificate(ssl) {
            var out: UnsafeMutablePointer<UInt8>?
            let n = i2d_X509(peer, &out)
            if n > 0, let out {
                der = Array(UnsafeBufferPointer(start: out, count: Int(n)))
                CRYPTO_free(out, #fileID, #line)
            }
        }
        self.init(version: TLSNames.protocolName(SSL_version(ssl)), cipherSuite: suite, serverName: name,
                  applicationProtocol: alpn, resumed: SSL_session_reused(ssl) == 1, clientCertificate: der,
                  versionNumber: Int(SSL_version(ssl)), cipherSuiteID: cipher.map { Int(SSL_CIPHER_get_protocol_id($0)) } ?? 0)
    }

    /// `{http.request.tls.client.*}` values, derived from the certificate on demand.
    public func clientValue(_ key: Substring) -> String? {
        guard let der = clientCertificate else { return "" }
        switch key {
        case "fingerprint": return Digest.sha256(der).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        case "certificate_der_base64": return Base64.encode(der)
        case "certificate_pem":
            let b64 = Array(Base64.encode(der))
            var pem = "-----BEGIN CERTIFICATE-----\n"
            var i = 0
            while i < b64.count { pem += String(b64[i..<min(i + 64, b64.count)]) + "\n"; i += 64 }
            return pem + "-----END CERTIFICATE-----\n"
        case "subject", "issuer", "serial":
            return der.withUnsafeBufferPointer { buf -> String? in
                var p: UnsafePointer<UInt8>? = buf.baseAddress
                guard let cert = d2i_X509(nil, &p, buf.count) else { return nil }
                defer { X509_free(cert) }
                if key == "serial" {
                    guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nil) else { return nil }
                    defer { BN_free(bn) }
                    guard let dec = BN_bn2dec(bn) else { return nil }
                    defer { CRYPTO_free(dec, #fileID, #line) }
                    return String(cString: dec)
                }
                return Self.rfc2253(key == "subject" ? X509_get_subject_name(cert) : X509_get_issuer_name(cert))
            }
        default: return nil
        }
    }

    private static func rfc2253(_ name: OpaquePointer?) -> String? {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, quantum_xn_flag_rfc2253()) >= 0 else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let n = quantum_bio_mem_data(bio, &data)
        guard n > 0, let data else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
    }
}
