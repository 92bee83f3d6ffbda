import COpenSSL
import Glibc

/// A TLS server's handshake configuration: its connection policies (first match wins) and the
/// certificates they present. Built once per config; every connection's `TLSSession` uses it.
/// `@unchecked Sendable`: immutable after init (its policies too); the certificate store is `Sendable`.
package final class TLSServerContext: @unchecked Sendable {
    let policies: [TLSPolicy]
    let store: CertificateStore
    /// Caddy's default for `strict_sni_host`: on when a policy authenticates clients.
    public let hasClientAuth: Bool

    /// - Parameter resumption: session tickets and the session cache (off: Caddy's
    ///   `session_tickets.disabled`, every handshake a full one).
    /// - Parameter alpn: the protocols the server speaks (`h2` only when `protocols` has it).
    init(policies configs: [TLSConnectionPolicyConfig], store: CertificateStore, workingDirectory: String,
         alpn: [String] = HTTPProtocols().alpn, resumption: Bool = true) throws(ConfigError) {
        var built: [TLSPolicy] = []
        for (i, config) in configs.enumerated() {
            built.append(try TLSPolicy(config, index: i, workingDirectory: workingDirectory, alpn: alpn, resumption: resumption))
        }
        if built.isEmpty {
            built.append(try TLSPolicy(TLSConnectionPolicyConfig(), index: 0, workingDirectory: workingDirectory, alpn: alpn,
                                       resumption: resumption))
        }
        policies = built
        self.store = store
        hasClientAuth = built.contains { $0.hasClientAuth }
        // Unretained (both): every `TLSSession` holds its server context, which holds its policies.
        let me = Unmanaged.passUnretained(self).toOpaque()
        for policy in built {
            SSL_CTX_set_client_hello_cb(policy.ctx, clientHelloCallback, me)
            SSL_CTX_set_alpn_select_cb(policy.ctx, alpnCallback, Unmanaged.passUnretained(policy).toOpaque())
        }
    }

    /// A session for a newly accepted socket (nil when OpenSSL cannot allocate one).
    func makeSession(fd: Int32) -> TLSSession? { TLSSession(server: self, fd: fd) }

    /// Picks the policy and certificate for a ClientHello; runs inside `SSL_do_handshake`.
    fileprivate func clientHello(_ ssl: OpaquePointer, _ alert: UnsafeMutablePointer<Int32>?) -> Int32 {
        guard let raw = SSL_get_ex_data(ssl, 0) else { return SSL_CLIENT_HELLO_ERROR }
        let session = Unmanaged<TLSSession>.fromOpaque(raw).takeUnretainedValue()  // owns `ssl` (TLSSession.init)
        let name = Self.serverName(ssl) ?? ""
        guard let index = policies.firstIndex(where: { $0.matches(serverName: name) }) else {
            alert?.pointee = SSL_AD_UNRECOGNIZED_NAME
            return SSL_CLIENT_HELLO_ERROR
        }
        let policy = policies[index]
        if index != 0 { policy.apply(to: ssl) }
        guard let cert = certificate(for: name, policy: policy, fd: session.fd),
              SSL_use_cert_and_key(ssl, cert.leaf, cert.key, cert.chain, 1) == 1 else {
            alert?.pointee = SSL_AD_UNRECOGNIZED_NAME
            return SSL_CLIENT_HELLO_ERROR
        }
        return SSL_CLIENT_HELLO_SUCCESS
    }

    /// Caddy's order: the exact name, a wildcard; without SNI the local IP, then `default_sni`;
    /// last `fallback_sni`. Nothing found fails the handshake with an alert.
    func certificate(for name: String, policy: TLSPolicy, fd: Int32) -> TLSCertificate? {
        let eligible: (TLSCertificate) -> Bool = { $0.isSelected(anyTag: policy.anyTag, allTags: policy.allTags) }
        if !name.isEmpty {
            if let found = store.lookup(name, isEligible: eligible) { return found }
        } else {
            if let found = store.lookup(Sockets.localAddress(fd).host, isEligible: eligible) { return found }
            if let d = policy.defaultSNI, let found = store.lookup(d, isEligible: eligible) { return found }
        }
        if let f = policy.fallbackSNI, let found = store.lookup(f, isEligible: eligible) { return found }
        return nil
    }

    /// The host_name of the ClientHello's server_name extension, lowercased without a trailing
    /// dot; nil when absent or malformed (hostile input: every length is checked).
    static func serverName(_ ssl: OpaquePointer) -> String? {
        var data: UnsafePointer<UInt8>?
        var length = 0
        guard SSL_client_hello_get0_ext(ssl, UInt32(TLSEXT_TYPE_server_name), &data, &length) == 1, let data, length >= 2 else { return nil }
        let bytes = UnsafeBufferPointer(start: data, count: length)
        let listEnd = 2 + (Int(bytes[0]) << 8 | Int(bytes[1]))
        guard listEnd <= length else { return nil }
        var i = 2
        while i + 3 <= listEnd {
            let type = bytes[i]
            let count = Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            i += 3
            guard i + count <= listEnd else { return nil }
            if type == 0 {
                var name = Array(bytes[i..<i + count])
                if name.last == UInt8(ascii: ".") { name.removeLast() }
                guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { return nil }
                return String(decoding: name, as: UTF8.self).lowercased()
            }
            i += count
        }
        return nil
    }
}

private let clientHelloCallback: SSL_client_hello_cb_fn = { ssl, alert, arg in
    guard let ssl, let arg else { return SSL_CLIENT_HELLO_ERROR }
    // Alive: the handshake's `TLSSession` holds it (see passUnretained in init).
    return Unmanaged<TLSServerContext>.fromOpaque(arg).takeUnretainedValue().clientHello(ssl, alert)
}

/// RFC 7301 selection in the policy's order; no common protocol is a fatal
/// `no_application_protocol` alert, as Go's (and so Caddy's) server does.
private let alpnCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, UnsafeMutablePointer<UInt8>?,
                                          UnsafePointer<UInt8>?, UInt32, UnsafeMutableRawPointer?) -> Int32 = { _, out, outLength, input, inputLength, arg in
    guard let arg, let input, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let policy = Unmanaged<TLSPolicy>.fromOpaque(arg).takeUnretainedValue()  // held via the session's server
    if policy.alpn.isEmpty { return SSL_TLSEXT_ERR_NOACK }
    let offered = UnsafeBufferPointer(start: input, count: Int(inputLength))
    for wanted in policy.alpn {
        var i = 0
        while i < offered.count {
            let count = Int(offered[i])
            let start = i + 1
            guard start + count <= offered.count else { break }
            if count == wanted.count && offered[start..<start + count].elementsEqual(wanted) {
                out.pointee = input + start
                outLength.pointee = UInt8(count)
                return SSL_TLSEXT_ERR_OK
            }
            i = start + count
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL
}
