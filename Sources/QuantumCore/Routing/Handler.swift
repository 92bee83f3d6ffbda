/// A step in a route's middleware chain. It answers itself or calls `next` (at most once).
///
/// Handlers run on the connection's event loop (`nonisolated(nonsending)`): they may `await`
/// anything, and code that never suspends costs no executor switch.
public protocol Handler: Sendable {
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response
}

/// The rest of the chain after a handler.
public struct Next: Sendable {
    public typealias Body = nonisolated(nonsending) @Sendable (Request, Context) async throws -> Response
    @usableFromInline let body: Body

    public init(_ body: @escaping Body) { self.body = body }

    @inlinable
    public nonisolated(nonsending) func callAsFunction(_ request: Request, _ context: Context) async throws -> Response {
        try await body(request, context)
    }

    /// The end of every chain: Caddy answers a request nothing handled with an empty 200.
    public static let emptyResponse = Next { _, _ in Response(status: 200) }
}

/// A synchronous test on a request. Matchers may record values (regexp captures) in the context.
public protocol RequestMatcher: Sendable {
    func matches(_ request: Request, context: inout Context) throws -> Bool
}
