/// Which HTTP versions a server speaks: Caddy's server `protocols` (`h1`, `h2`, `h2c`, `h3`).
///
/// Caddy's default is h1 + h2 + h3; HTTP/3 is not served yet, so the default here is h1 + h2:
/// HTTP/2 over TLS when ALPN picks `h2`. Cleartext HTTP/2 (`h2c`: prior knowledge or
/// `Upgrade: h2c`) only when listed, as in Caddy.
package struct HTTPProtocols: Sendable, Equatable {
    public var h1: Bool
    public var h2: Bool
    public var h2c: Bool

    public init(h1: Bool = true, h2: Bool = true, h2c: Bool = false) {
        self.h1 = h1
        self.h2 = h2
        self.h2c = h2c
    }

    /// From a server's `protocols` list; nil means Caddy's default.
    public init(_ list: [String]?) {
        guard let list else { self.init(); return }
        self.init(h1: list.contains("h1"), h2: list.contains("h2"), h2c: list.contains("h2c"))
    }

    /// The list as Caddy names it (`["h1", "h2"]`), for logs.
    public var names: [String] { (h1 ? ["h1"] : []) + (h2 ? ["h2"] : []) + (h2c ? ["h2c"] : []) }

    /// ALPN protocols offered over TLS, server preference first; a policy's `alpn` list is
    /// filtered to these. `http/1.0` is accepted like nginx does (Go, so Caddy, fails `curl -0`
    /// with no_application_protocol).
    var alpn: [String] { (h2 ? ["h2"] : []) + ["http/1.1", "http/1.0"] }
}

/// HTTP/2 settings of a server. Go's (so Caddy's) defaults where it has them.
package struct HTTP2Limits: Sendable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS; Go's `http2.Server` default is 250.
    public var maxConcurrentStreams: UInt32 = 250
    /// Each stream's receive window: how much of a request body may wait for a slow handler.
    public var streamWindow: Int32 = 256 * 1024
    /// Request body bytes buffered across a connection's streams before the connection-level
    /// window is only refunded as handlers read (bounds memory per connection).
    public var connectionBufferBudget = 4 * 1024 * 1024
    public init() {}
}
