import COpenSSL

/// One compiled connection policy: an `SSL_CTX` holding its versions, ciphers, curves, ALPN
/// callback and client authentication, and the rules it picks a certificate by.
/// `@unchecked Sendable`: immutable after init; OpenSSL lets every thread make sessions from one `SSL_CTX`.
final class TLSPolicy: @unchecked Sendable {
    let ctx: OpaquePointer
    /// Lowercased server names this policy matches (wildcards allowed); nil matches every hello.
    let sni: [String]?
    let anyTag: [String]?
    let allTags: [String]?
    let defaultSNI: String?
    let fallbackSNI: String?
    /// ALPN protocols offered, server preference first (only those Quantum speaks).
    let alpn: [[UInt8]]
    /// Whether the policy asks for client certificates (Caddy then defaults `strict_sni_host` on).
    let hasClientAuth: Bool
    private let minVersion: Int32
    private let maxVersion: Int32
    private let verifyMode: Int32
    private let acceptAnyClientCertificate: Bool
    private let tls12Ciphers: String
    private let tls13Ciphers: String
    private let groups: String

    /// - Parameter alpn: what the server speaks, preferred first; the policy's `alpn` is filtered to it.
    init(_ config: TLSConnectionPolicyConfig, index: Int, workingDirectory: String, alpn supported: [String] = HTTPProtocols().alpn,
         resumption: Bool = true) throws(ConfigError) {
        let path = config.path
        func fail(_ key: String, _ message: String) -> ConfigError { ConfigError(codingPath: path + [NameKey(key)], message) }
        sni = config.match?.sni.map { $0.map { $0.lowercased() } }
        anyTag = config.certificateSelection?.anyTag
        allTags = config.certificateSelection?.allTags
        defaultSNI = config.defaultSNI?.lowercased()
        fallbackSNI = config.fallbackSNI?.lowercased()
        let offered = config.alpn ?? supported
        alpn = offered.filter(supported.contains).map { Array($0.utf8) }
        minVersion = config.protocolMin.flatMap(TLSNames.protocolVersion) ?? TLS1_2_VERSION
        maxVersion = config.protocolMax.flatMap(TLSNames.protocolVersion) ?? TLS1_3_VERSION
        let suites = (config.cipherSuites ?? []).compactMap(TLSNames.cipherSuite)
        let tls12 = suites.compactMap { if case .tls12(let s) = $0 { s } else { nil } }
        let tls13 = suites.compactMap { if case .tls13(let s) = $0 { s } else { nil } }
        tls12Ciphers = tls12.isEmpty ? TLSNames.defaultTLS12Ciphers : tls12.joined(separator: ":")
        tls13Ciphers = tls13.isEmpty ? TLSNames.defaultTLS13Ciphers : tls13.joined(separator: ":")
        groups = config.curves.map { $0.compactMap(TLSNames.curve).joined(separator: ":") } ?? TLSNames.defaultCurves

        var caCertificates: [OpaquePointer] = []
        defer { for c in caCertificates { X509_free(c) } }
        let auth = config.clientAuthentication
        if let auth {
            let authPath = auth.path
            for (i, text) in auth.trustedCACerts.enumerated() {
                guard let der = Base64.decode(text), let cert = Self.certificate(der: der) else {
                    throw ConfigError(codingPath: authPath + [NameKey("trusted_ca_certs"), IndexKey(i)], "not a base64 DER certificate")
                }
                caCertificates.append(cert)
            }
            for (i, file) in auth.trustedCACertsPEMFiles.enumerated() {
                let full = file.hasPrefix("/") ? file : workingDirectory + "/" + file
                let keyPath = authPath + [NameKey("trusted_ca_certs_pem_files"), IndexKey(i)]
                let pem: [UInt8]
                do { pem = try FileIO.readAll(full) } catch { throw ConfigError(codingPath: keyPath, "\(error)") }
                let certs: [OpaquePointer]
                do { certs = try TLSCertificate.readCertificates(pem) } catch { throw ConfigError(codingPath: keyPath, "\(error)") }
                if certs.isEmpty { throw ConfigError(codingPath: keyPath, "\(full): no PEM certificate found") }
                caCertificates += certs
            }
        }
        let mode = auth?.effectiveMode
        hasClientAuth = mode != nil
        switch mode {
        case nil: verifyMode = SSL_VERIFY_NONE; acceptAnyClientCertificate = false
        case .request: verifyMode = SSL_VERIFY_PEER; acceptAnyClientCertificate = true
        case .require: verifyMode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; acceptAnyClientCertificate = true
        case .verifyIfGiven: verifyMode = SSL_VERIFY_PEER; acceptAnyClientCertificate = false
        case .requireAndVerify: verifyMode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; acceptAnyClientCertificate = false
        }
        if (mode == .verifyIfGiven || mode == .requireAndVerify) && caCertificates.isEmpty {
            throw ConfigError(codingPath: (auth?.path ?? path) + [NameKey("mode")], "mode \(mode!.rawValue) needs trusted CA certificates")
        }

        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw ConfigError(codingPath: path, OpenSSLError.drain()) }
        self.ctx = ctx
        SSL_CTX_set_options(ctx, quantum_ssl_server_options())
        if !resumption {
            SSL_CTX_set_options(ctx, quantum_ssl_no_ticket_option())
            _ = quantum_ssl_ctx_set_session_cache_mode(ctx, 0)
            _ = SSL_CTX_set_num_tickets(ctx, 0)
        }
        _ = quantum_ssl_ctx_set_mode(ctx, quantum_ssl_release_buffers_mode())
        _ = quantum_ssl_ctx_set_min_proto(ctx, minVersion)
        _ = quantum_ssl_ctx_set_max_proto(ctx, maxVersion)
        guard SSL_CTX_set_cipher_list(ctx, tls12Ciphers) == 1 else { SSL_CTX_free(ctx); throw fail("cipher_suites", OpenSSLError.drain()) }
        guard SSL_CTX_set_ciphersuites(ctx, tls13Ciphers) == 1 else { SSL_CTX_free(ctx); throw fail("cipher_suites", OpenSSLError.drain()) }
        guard quantum_ssl_ctx_set_groups(ctx, groups) == 1 else { SSL_CTX_free(ctx); throw fail("curves", OpenSSLError.drain()) }
        // A distinct session context per policy: a session never resumes under another policy
        // (one that skipped client authentication, say).
        let sessionContext = Array("quantum-policy-\(index)".utf8)
        _ = SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count))
        if let store = SSL_CTX_get_cert_store(ctx) {
            for cert in caCertificates {
                _ = X509_STORE_add_cert(store, cert)
                _ = SSL_CTX_add_client_CA(ctx, cert)
            }
        }
        SSL_CTX_set_verify(ctx, verifyMode, acceptAnyClientCertificate ? acceptAnyCertificate : nil)
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(ctx) }

    /// Caddy's `match.sni`: case-insensitive, `*` standing for one label.
    func matches(serverName: String) -> Bool {
        guard let sni else { return true }
        for pattern in sni {
            if pattern == serverName { return true }
            if pattern.hasPrefix("*."), let dot = serverName.firstIndex(of: "."), serverName[dot...] == pattern.dropFirst() {
                return true
            }
        }
        return false
    }

    /// Moves a handshake begun under the server's first policy over to this one.
    func apply(to ssl: OpaquePointer) {
        _ = SSL_set_SSL_CTX(ssl, ctx)
        _ = quantum_ssl_set_min_proto(ssl, minVersion)
        _ = quantum_ssl_set_max_proto(ssl, maxVersion)
        _ = SSL_set_cipher_list(ssl, tls12Ciphers)
        _ = SSL_set_ciphersuites(ssl, tls13Ciphers)
        _ = quantum_ssl_set_groups(ssl, groups)
        SSL_set_verify(ssl, verifyMode, acceptAnyClientCertificate ? acceptAnyCertificate : nil)
    }

    private static func certificate(der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buf -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_X509(nil, &p, buf.count)
        }
    }
}

/// Modes `request` and `require`: any client certificate is accepted (the application decides).
private let acceptAnyCertificate: @convention(c) (Int32, OpaquePointer?) -> Int32 = { _, _ in 1 }
