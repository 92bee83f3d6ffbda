/// Receives a streamed response body. Writes suspend while the peer is slow (back-pressure).
public protocol ResponseBodyWriter: Sendable {
    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws
    /// Trailer fields to send after the body (a checksum known only at the end, an upstream's
    /// trailers). Call before the producer returns. They travel on HTTP/2 and on chunked
    /// HTTP/1.1 bodies; a body with a declared length over HTTP/1.1 has no room for them.
    func setTrailers(_ fields: HTTPFields)
}

extension ResponseBodyWriter {
    /// Default for writers that cannot send trailers: the fields are dropped.
    public func setTrailers(_ fields: HTTPFields) {}
}

/// Trailer fields a handler may send: valid names, no line breaks, nothing that frames or
/// routes the message (RFC 9110 §6.5.1).
enum TrailerFields {
    static func allowed(_ fields: HTTPFields) -> [HTTPFields.Field] {
        fields.fields.filter { f in
            !f.name.isEmpty && f.name.utf8.allSatisfy(Token.isTChar) && f.value.utf8.allSatisfy(Token.isFieldValueByte)
                && !forbidden.contains(where: { f.name.equalsIgnoringASCIICase($0) })
        }
    }

    private static let forbidden = ["content-length", "transfer-encoding", "host", "content-type", "content-encoding",
                                    "content-range", "trailer", "te", "connection", "keep-alive", "upgrade", "authorization",
                                    "set-cookie", "cache-control", "expect", "max-forwards", "pragma", "range"]
}

/// Produces a body by writing to a `ResponseBodyWriter`.
public typealias ResponseBodyProducer = nonisolated(nonsending) @Sendable (any ResponseBodyWriter) async throws -> Void

/// What a response carries after its head.
public enum ResponseBody: Sendable {
    case empty
    case bytes([UInt8])
    /// Written in pieces; chunked on HTTP/1.1 when `length` is nil.
    case stream(length: Int?, ResponseBodyProducer)
    /// A range of an open file, sent without copying through user space where possible.
    case file(FileRegion)

    /// The length if known without producing the body.
    public var knownLength: Int? {
        switch self {
        case .empty: 0
        case .bytes(let b): b.count
        case .stream(let length, _): length
        case .file(let region): region.length
        }
    }
}

/// A protocol switch a handler claims (WebSocket, tunnels): run after the head is written.
public struct Upgrade: Sendable {
    /// Takes over the raw connection; the connection is closed when it returns.
    public typealias Body = @Sendable (any UpgradedConnection) async throws -> Void
    /// Called by the connection once the response head is on the wire.
    public let run: Body
    /// Set the result as `Response.upgrade`; for WebSockets, `WebSocketUpgrade.claim` makes one.
    public init(_ run: @escaping Body) { self.run = run }
}

/// An HTTP response as handlers build it.
public struct Response: Sendable {
    /// The HTTP status code; the reason phrase is derived from it when the head is written.
    public var status: Int
    /// Sent as given, except framing fields (`Content-Length`, `Transfer-Encoding`): the connection writes those.
    public var headers: HTTPFields
    /// What follows the head; `.empty` by default.
    public var body: ResponseBody
    /// Close the connection after this response (`static_response.close`).
    public var closeConnection = false
    /// Drop the connection without writing anything (`static_response.abort`).
    public var abort = false
    /// When set with status 101, the connection switches to this after the head.
    public var upgrade: Upgrade?
    /// Fields forwarded as bytes, written before `headers` (the reverse proxy's answers to
    /// promised HTTP/1.1 requests; other writers turn them into fields).
    package var forwardedFields: FieldBlock?
    /// No route handled the request (the access log writes status 0, as Caddy).
    package var unhandled = false
    /// The instrumented handlers this response came through (metrics-enabled servers): their
    /// histograms are observed once the connection has sent it.
    package var metricsTrail: MetricsTrail?
    /// The user an `authentication` handler let through (`{http.auth.user.id}`): the access
    /// log's `user_id`.
    package var authenticatedUser: String?

    /// Defaults to an empty 200 with no headers, what Caddy answers when nothing handles a request.
    public init(status: Int = 200, headers: HTTPFields = HTTPFields(), body: ResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body bytes a handler produced for a HEAD request, as Caddy counts them in logs and
    /// metrics: an in-memory body's length (`static_response` writes it); files and streams
    /// produce nothing for HEAD.
    package var headBodySize: Int {
        if case .bytes(let b) = body { return b.count }
        return 0
    }

    /// What the routes answer when no handler answered: an empty 200 (Caddy's), marked `unhandled`.
    package static var nothingHandled: Response {
        var response = Response(status: 200)
        response.unhandled = true
        return response
    }

    /// A text response with a Content-Type.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> Response {
        var r = Response(status: status, body: .bytes(Array(text.utf8)))
        r.headers.set("Content-Type", contentType)
        return r
    }
}

/// The raw byte stream of a connection after a protocol switch.
public protocol UpgradedConnection: Sendable {
    /// The next bytes from the peer, nil at end of stream.
    nonisolated(nonsending) func read() async throws -> [UInt8]?
    nonisolated(nonsending) func write(_ bytes: [UInt8]) async throws
    /// Ends the connection after the bytes already written (like a TCP FIN, not a reset).
    func close()
    /// Ends the connection now, dropping what the peer has not taken yet: a timeout cutting a
    /// peer that stopped reading, which `close()` would wait for.
    func abort()
}

extension UpgradedConnection {
    /// Default for connections with no faster way to drop: a plain `close()`.
    public func abort() { close() }
}
