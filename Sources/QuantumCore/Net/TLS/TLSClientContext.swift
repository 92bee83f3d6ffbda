import COpenSSL
import Synchronization

/// How a client checks the servers it connects to over TLS (wss://, https upstreams).
public struct TLSClientConfiguration: Sendable, Hashable {
    /// PEM file of the roots to trust; nil uses the system's (`/etc/ssl/certs`).
    public var trustRootsFile: String?
    /// Off only for tests and trusted networks: any certificate is accepted.
    public var verifyPeer: Bool
    /// The name to send as SNI and to verify, when it differs from the host dialled.
    public var serverName: String?
    /// Offered application protocols (`http/1.1`), in order.
    public var alpn: [String]

    /// The defaults verify the peer against the system roots and offer only `http/1.1`.
    public init(trustRootsFile: String? = nil, verifyPeer: Bool = true, serverName: String? = nil, alpn: [String] = ["http/1.1"]) {
        self.trustRootsFile = trustRootsFile
        self.verifyPeer = verifyPeer
        self.serverName = serverName
        self.alpn = alpn
    }
}

/// An OpenSSL client context (TLS 1.2+, peer verification), one per configuration for the
/// process: contexts are costly to build and safe to share between connections.
/// `@unchecked Sendable`: immutable after init; OpenSSL lets every thread make sessions from one `SSL_CTX`.
final class TLSClientContext: @unchecked Sendable {
    let ctx: OpaquePointer
    let configuration: TLSClientConfiguration

    private init(_ configuration: TLSClientConfiguration) throws(TLSClientError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSClientError(OpenSSLError.drain()) }
        self.ctx = ctx
        self.configuration = configuration
        SSL_CTX_set_options(ctx, quantum_ssl_client_options())
        _ = quantum_ssl_ctx_set_min_proto(ctx, TLS1_2_VERSION)
        if configuration.verifyPeer {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            let loaded = configuration.trustRootsFile.map { SSL_CTX_load_verify_locations(ctx, $0, nil) }
                ?? SSL_CTX_set_default_verify_paths(ctx)
            guard loaded == 1 else {
                let why = OpenSSLError.drain()
                SSL_CTX_free(ctx)
                throw TLSClientError("cannot load trust roots \(configuration.trustRootsFile ?? "(system)"): \(why)")
            }
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        if !configuration.alpn.isEmpty {
            var wire: [UInt8] = []
            for p in configuration.alpn where !p.isEmpty && p.utf8.count < 256 { wire.append(UInt8(p.utf8.count)); wire += p.utf8 }
            _ = SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count))
        }
    }

    deinit { SSL_CTX_free(ctx) }

    private static let cache = Mutex<[TLSClientConfiguration: TLSClientContext]>([:])

    /// The shared context for `configuration`.
    static func shared(_ configuration: TLSClientConfiguration) throws(TLSClientError) -> TLSClientContext {
        if let existing = cache.withLock({ $0[configuration] }) { return existing }
        let made = try TLSClientContext(configuration)
        return cache.withLock { c in
            if let existing = c[configuration] { return existing }
            c[configuration] = made
            return made
        }
    }
}

/// A TLS client failure: the context could not be built, or the handshake failed (with the
/// verification error when that was the reason).
package struct TLSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "TLS: \(message)" }
}
