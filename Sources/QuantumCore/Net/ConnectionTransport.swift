/// How an HTTP/1 connection's bytes meet its socket: as they are, or through TLS.
///
/// The connection reads the socket itself and hands the bytes here; plain connections take the
/// same path as before TLS existed (one enum check per read and per flush).
enum ConnectionTransport {
    case plain
    case tls(TLSSession)

    /// Output accepted from the connection's queue but not yet on the socket (TLS records).
    var bufferedBytes: Int {
        switch self {
        case .plain: 0
        case .tls(let session): session.pendingBytes
        }
    }

    /// Writes queued output: `write`/`writev`/`sendfile` in the clear, records over TLS.
    func write(_ out: inout OutboundQueue, to fd: Int32) -> OutboundQueue.WriteResult {
        switch self {
        case .plain: out.write(to: fd)
        case .tls(let session): session.write(&out)
        }
    }

    /// The socket is about to close: TLS says goodbye (close_notify, or a pending alert).
    func closing() {
        if case .tls(let session) = self { session.closing() }
    }

    /// Negotiated TLS facts, once the handshake is done.
    var tlsInfo: TLSInfo? {
        if case .tls(let session) = self { return session.info }
        return nil
    }
}
