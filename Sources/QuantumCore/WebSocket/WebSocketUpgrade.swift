import Synchronization

/// Claiming a WebSocket upgrade from a handler.
///
/// A request asking for a WebSocket travels the route chain like any other. A handler that
/// wants it returns `WebSocketUpgrade.claim(request, ...)`: the 101 answer with the right
/// headers (over HTTP/2, RFC 8441: a 200 to the extended CONNECT) and a closure the connection
/// runs once that answer is written. A handler that does not call `claim` leaves the request
/// an ordinary one.
///
/// ```swift
/// func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
///     guard WebSocketHandshake.isWebSocketRequest(request) else { return try await next(request, context) }
///     return WebSocketUpgrade.claim(request) { socket in
///         for await message in socket { try await socket.send(message) }
///     }
/// }
/// ```
public enum WebSocketUpgrade {
    /// Sockets open through `claim` (`quantum_websocket_connections`).
    package static let openConnections = Atomic<Int>(0)

    /// Runs with the open socket once the answer is written; the socket closes when it returns (1011 if it throws).
    public typealias Handler = @Sendable (WebSocket) async throws -> Void

    /// The response that accepts `request` as a WebSocket — or, when the request is not a valid
    /// WebSocket handshake, the 400/426 that says why.
    ///
    /// - subprotocols: those this handler speaks, in its order of preference; the first the
    ///   client also offers is chosen. None chosen: no `Sec-WebSocket-Protocol` in the answer.
    /// - configuration: limits, timers, and whether permessage-deflate is accepted.
    /// - handler: runs with the open socket. When it returns (or throws: 1011) the socket is
    ///   closed with a closing handshake.
    public static func claim(_ request: Request, subprotocols: [String] = [],
                             configuration: WebSocketConfiguration = WebSocketConfiguration(),
                             headers extraHeaders: HTTPFields = HTTPFields(),
                             handler: @escaping Handler) -> Response {
        if let rejection = WebSocketHandshake.validate(request) { return rejection }
        var response: Response
        if WebSocketHandshake.isExtendedConnect(request) {
            // HTTP/2 (RFC 8441 §5): a 2xx opens the socket on the stream; no accept value.
            response = Response(status: 200, headers: extraHeaders)
        } else {
            let key = String(request.headers["sec-websocket-key"]!.trimmingOWS())
            response = Response(status: 101, headers: extraHeaders)
            response.headers.set("Upgrade", "websocket")
            response.headers.set("Connection", "Upgrade")
            response.headers.set("Sec-WebSocket-Accept", WebSocketHandshake.acceptValue(forKey: key))
        }

        let offered = WebSocketHandshake.offeredSubprotocols(request)
        let chosen = subprotocols.first { offered.contains($0) }
        if let chosen { response.headers.set("Sec-WebSocket-Protocol", chosen) }

        var negotiated: PerMessageDeflateParameters?
        if let compression = configuration.compression {
            let values = request.headers.values("sec-websocket-extensions")
            // A malformed header is treated as no offer: the connection goes uncompressed.
            if !values.isEmpty, let offers = WebSocketExtension.parse(values) {
                negotiated = PerMessageDeflateParameters.negotiate(offers: offers, configuration: compression)
            }
        }
        let deflate = negotiated
        if let deflate { response.headers.set("Sec-WebSocket-Extensions", deflate.extensionValue.headerValue) }

        response.upgrade = Upgrade { connection in
            guard let transport = connection as? any WebSocketTransport else {
                // Only Quantum's own connections carry WebSockets.
                connection.close()
                return
            }
            let socket = WebSocket(transport: transport, role: .server, configuration: configuration,
                                   compression: deflate, subprotocol: chosen)
            await transport.loop.submit { socket.start() }
            openConnections.add(1, ordering: .relaxed)
            defer { openConnections.subtract(1, ordering: .relaxed) }
            do {
                try await handler(socket)
                await socket.close(code: .normal)
            } catch {
                await socket.close(code: .internalError)
            }
        }
        return response
    }
}
