import COpenSSL
import CQuantumLinux
import Glibc

/// One connection's TLS state on its loop: OpenSSL over two memory BIOs, so the handshake and
/// every record are driven by the loop's own non-blocking reads and writes and never block it.
///
/// Ciphertext read from the socket is fed in and decrypted at once (nothing stays hidden inside
/// OpenSSL while epoll reports the socket idle); plaintext output is encrypted in batches and
/// the records wait in the write BIO until the socket takes them.
final class TLSSession {
    let fd: Int32
    /// The server context this session answers for (kept alive with it); nil on the client side.
    let server: TLSServerContext?
    private let client: TLSClientContext?
    private let ssl: OpaquePointer
    private var rbio: OpaquePointer
    private var wbio: OpaquePointer
    private(set) var handshakeDone = false
    private(set) var failed = false
    private(set) var info: TLSInfo?
    /// The first bytes were a plain HTTP request: answered with a 400 in the clear, as Go's
    /// (so Caddy's) server does, instead of a TLS alert the client cannot read.
    private var plainHTTP = false
    private var fedAny = false
    /// Largest input fed or output batch encrypted since the buffers were last trimmed.
    private var bufferHighWater = 0

    /// Plaintext encrypted per pass before the records are written out.
    static let batchBytes = 64 * 1024

    init?(server: TLSServerContext, fd: Int32) {
        guard let ssl = SSL_new(server.policies[0].ctx) else { ERR_clear_error(); return nil }
        guard let r = BIO_new(BIO_s_mem()), let w = BIO_new(BIO_s_mem()) else { SSL_free(ssl); ERR_clear_error(); return nil }
        self.ssl = ssl
        self.fd = fd
        self.server = server
        client = nil
        rbio = r
        wbio = w
        SSL_set_bio(ssl, r, w)
        SSL_set_accept_state(ssl)
        // Unretained: the session owns `ssl` and frees it in deinit, so no callback outlives it.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    /// The client side of a connection to `host` (SNI unless it is an IP literal; the
    /// certificate must name it unless verification is off).
    init?(client: TLSClientContext, host: String, fd: Int32) {
        guard let ssl = SSL_new(client.ctx) else { ERR_clear_error(); return nil }
        guard let r = BIO_new(BIO_s_mem()), let w = BIO_new(BIO_s_mem()) else { SSL_free(ssl); ERR_clear_error(); return nil }
        self.ssl = ssl
        self.fd = fd
        server = nil
        self.client = client
        rbio = r
        wbio = w
        fedAny = true  // the plain-HTTP check is a server's
        SSL_set_bio(ssl, r, w)
        SSL_set_connect_state(ssl)
        let name = client.configuration.serverName ?? host
        let isIP = SocketAddress(ip: name, port: 0) != nil
        if !isIP { _ = quantum_ssl_set_sni(ssl, name) }
        if client.configuration.verifyPeer {
            if isIP { _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) } else { _ = SSL_set1_host(ssl, name) }
        }
    }

    /// Client side: starts the handshake (the ClientHello waits in `pendingBytes`).
    func startHandshake() -> InputStatus {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { handshakeDone = true; info = TLSInfo(ssl: ssl); return .open }
        let e = SSL_get_error(ssl, rc)
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? .open : fail()
    }

    /// Why the handshake failed, when verification was the reason.
    var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    deinit { SSL_free(ssl) }

    enum InputStatus { case open, closed, failed }

    /// Feeds ciphertext from the socket; hands each piece of plaintext to `deliver` (which must
    /// copy it: `scratch` is reused). The handshake advances here; its replies wait in `pendingBytes`.
    func feed(_ ciphertext: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer,
              deliver: (UnsafeRawBufferPointer) -> Void) -> InputStatus {
        guard !failed else { return .failed }
        if !fedAny {
            fedAny = true
            if let first = ciphertext.first, first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") {
                plainHTTP = true
                return fail()
            }
        }
        bufferHighWater = max(bufferHighWater, ciphertext.count)
        guard BIO_write(rbio, ciphertext.baseAddress, Int32(ciphertext.count)) == Int32(ciphertext.count) else { return fail() }
        if !handshakeDone {
            ERR_clear_error()
            let rc = SSL_do_handshake(ssl)
            if rc != 1 {
                let e = SSL_get_error(ssl, rc)
                return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? .open : fail()
            }
            handshakeDone = true
            info = TLSInfo(ssl: ssl)
        }
        while true {
            let n = SSL_read(ssl, scratch.baseAddress, Int32(clamping: scratch.count))
            if n > 0 {
                deliver(UnsafeRawBufferPointer(rebasing: scratch[0..<Int(n)]))
                continue
            }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ: return .open
            case SSL_ERROR_ZERO_RETURN: return .closed
            default: return fail()
            }
        }
    }

    private func fail() -> InputStatus {
        failed = true
        ERR_clear_error()
        return .failed
    }

    /// Ciphertext waiting for the socket.
    var pendingBytes: Int { Int(BIO_ctrl_pending(wbio)) }

    /// Encrypts queued output (file ranges read first) and writes the records; plain
    /// connections use `OutboundQueue.write(to:)` instead.
    func write(_ out: inout OutboundQueue) -> OutboundQueue.WriteResult {
        while true {
            switch writeRecords() {
            case .drained: break
            case let other: return other
            }
            if out.isEmpty || !handshakeDone || failed { return .drained }
            let ssl = self.ssl
            let encrypted = out.drain(limit: Self.batchBytes) { piece in
                SSL_write(ssl, piece.baseAddress, Int32(piece.count)) > 0 ? piece.count : -1
            }
            guard let encrypted else { failed = true; ERR_clear_error(); return .failed(EPROTO) }
            bufferHighWater = max(bufferHighWater, encrypted)
        }
    }

    /// Writes the records waiting in the write BIO.
    private func writeRecords() -> OutboundQueue.WriteResult {
        while true {
            var data: UnsafeMutablePointer<CChar>?
            let length = quantum_bio_mem_data(wbio, &data)
            guard length > 0, let data else { return .drained }
            let n = Sockets.send(fd, data, count: length)
            if n == length { _ = quantum_bio_reset(wbio); return .drained }
            if n > 0 { discard(n); return .blocked }
            let e = cq_errno()
            if e == EINTR { continue }
            return e == EAGAIN || e == EWOULDBLOCK ? .blocked : .failed(e)
        }
    }

    private func discard(_ count: Int) {
        withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 16) { buf in
            var left = count
            while left > 0 {
                let n = BIO_read(wbio, buf.baseAddress, Int32(min(left, buf.count)))
                if n <= 0 { break }
                left -= Int(n)
            }
        }
    }

    /// Before the socket closes: a close_notify after a good session, and any alert (a failed
    /// handshake's) goes out in one non-blocking write.
    func closing() {
        if plainHTTP {
            let text = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
            _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
            return
        }
        if handshakeDone && !failed {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        _ = writeRecords()
    }

    /// Returns the memory BIOs to their initial size once a burst is over (idle connection),
    /// so thousands of quiet connections do not each keep a 64 KiB buffer.
    func trimBuffers() {
        guard bufferHighWater > 16 * 1024, BIO_ctrl_pending(rbio) == 0, BIO_ctrl_pending(wbio) == 0 else { return }
        bufferHighWater = 0
        if let r = BIO_new(BIO_s_mem()) { SSL_set0_rbio(ssl, r); rbio = r }
        if let w = BIO_new(BIO_s_mem()) { SSL_set0_wbio(ssl, w); wbio = w }
    }
}
