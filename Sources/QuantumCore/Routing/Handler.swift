/// A step in a route's middleware chain. It answers itself or calls `next` (at most once).
///
/// Handlers run on the connection's event loop (`nonisolated(nonsending)`): they may `await`
/// anything, and code that never suspends costs no executor switch.
public protocol Handler: Sendable {
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response
}

/// The rest of the chain after a handler: a position in the compiled route program (the
/// handler after this one, then the routes after this route), or a closure of your own.
public struct Next: Sendable {
    /// A closure standing in for the rest of the chain, e.g. to call a handler on its own in tests.
    public typealias Body = nonisolated(nonsending) @Sendable (Request, Context) async throws -> Response

    enum Target: Sendable {
        case position(RouteProgram.Position)
        case closure(Body)
    }

    let target: Target

    /// A `next` of your own; chains from routes get theirs from the compiled program.
    public init(_ body: @escaping Body) { target = .closure(body) }

    init(_ position: RouteProgram.Position) { target = .position(position) }

    /// Runs the rest of the chain with the (possibly changed) request and context; call at most once.
    public nonisolated(nonsending) func callAsFunction(_ request: Request, _ context: Context) async throws -> Response {
        switch target {
        case .position(let at): return try await at.program.run(request, context, at: at)
        case .closure(let body): return try await body(request, context)
        }
    }

    /// The end of every chain: Caddy answers a request nothing handled with an empty 200.
    public static let emptyResponse = Next { _, _ in Response(status: 200) }
}

/// A synchronous test on a request. Matchers may record values (regexp captures) in the context.
public protocol RequestMatcher: Sendable {
    func matches(_ request: Request, context: inout Context) throws -> Bool
}
