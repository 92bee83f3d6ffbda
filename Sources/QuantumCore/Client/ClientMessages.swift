/// A request for `HTTPClient`: the head as it goes on the wire, and an optional streamed body.
package struct ClientRequest: Sendable {
    public var method: String
    /// Origin-form target: the escaped path and query.
    public var target: String
    /// Sent as given, in order (include `Host`). The client writes the body framing itself:
    /// `Content-Length` when the body's length is known, else `Transfer-Encoding: chunked`.
    public var headers: HTTPFields
    /// Nil for no body. Read once: a request whose body was consumed cannot be replayed.
    public var body: RequestBody?

    public init(method: String = "GET", target: String = "/", headers: HTTPFields = HTTPFields(), body: RequestBody? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }
}

/// A response head with its body streaming in behind it.
///
/// Read `body` to its end (or call `discard()`): a body left unread keeps the connection out of
/// the pool, so `discard()` closes it.
package struct ClientResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: HTTPFields
    /// The fields as bytes instead of `headers`, when the exchange asked for them.
    public var fieldBlock: FieldBlock?
    /// The response body; after a `101` the raw bytes of the upgraded connection.
    public var body: RequestBody
    /// The whole body, when it arrived with the head of a response delivered by callback
    /// (`HTTPClient.startOnIdleConnection`); `body` is then empty. Saves a stream per small
    /// answer, which a proxy would only drain again at once.
    public var completeBody: [UInt8]?
    let connection: HTTPClientConnection
    let exchange: Int

    /// Moves the headers out (leaving none): the caller's list is then its alone, to filter in
    /// place without copying it.
    public mutating func takeHeaders() -> HTTPFields {
        let taken = headers
        headers = HTTPFields()
        return taken
    }

    /// After a `101 Switching Protocols`: sends raw bytes on the upgraded connection.
    public nonisolated(nonsending) func writeUpgraded(_ bytes: [UInt8]) async throws {
        let connection = self.connection
        if connection.loop.inEventLoop { return try await connection.writeUpgraded(bytes) }
        try await HTTPClient.onLoop(connection.loop) { try await connection.writeUpgraded(bytes) }
    }

    /// Gives the connection up: closed unless the exchange already ended cleanly.
    public func discard() {
        let connection = self.connection, exchange = self.exchange
        if connection.loop.inEventLoop { connection.abandon(exchange: exchange) } else {
            connection.loop.execute { connection.abandon(exchange: exchange) }
        }
    }
}
