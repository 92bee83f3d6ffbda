/// What an HTTP/1.1 request line and header block say, parsed and validated.
package struct RequestHead: Sendable, Equatable {
    public enum Framing: Sendable, Equatable { case none, length(Int), chunked }

    public var method: String
    /// The request-target as received (origin-form, absolute-form or `*`).
    public var target: String
    /// The escaped path of the target (absolute-form reduced to its path).
    public var rawPath: String
    /// The query without `?`, or empty.
    public var query: String
    public var hasQuery: Bool
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPFields
    /// The authority: from an absolute-form target, else the Host header (may be empty for 1.0).
    public var authority: String
    public var framing: Framing
    public var keepAlive: Bool
    public var expectContinue: Bool
    /// The request carries an `Upgrade` header (a handler may claim it).
    public var hasUpgrade: Bool

    /// A `HEAD` request, asked per answer.
    public var isHead: Bool { Self.isHead(method) }

    /// Whether `method` is `HEAD`: the length test first spares `GET` a string comparison call.
    @inlinable public static func isHead(_ method: String) -> Bool { method.utf8.count == 4 && method == "HEAD" }
}

/// Why a request could not be parsed; `status` is what the client gets before the close.
package struct HTTP1ParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let reason: String
    public init(_ status: Int, _ reason: String) { self.status = status; self.reason = reason }
    public var description: String { "\(status) \(reason)" }
}
