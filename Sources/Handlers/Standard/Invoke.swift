import QuantumCore

/// How deep named-route invocations are nested for this request.
enum InvokeDepth: ContextKey { typealias Value = Int }

/// `invoke`: runs one of the server's `named_routes`, then goes on down the chain as its route
/// falls through (Caddy 2.7's handler, what the Caddyfile's `invoke NAME` becomes).
public struct Invoke: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.invoke"

    /// The named route to run.
    public var name: String
    private let table: NamedRoutes

    enum CodingKeys: String, CodingKey, CaseIterable { case name }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        table = try decoder.namedRoutes
        try table.expect(name, at: decoder.codingPath + [CodingKeys.name])
    }

    /// How many invocations one request may nest (named routes may invoke each other, and a
    /// request could otherwise drive a cycle until the stack runs out).
    public static let maxDepth = 64

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let (route, inner) = try enter(context)
        return try await route.run(request, context: inner, next: next)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        let (route, inner) = try enter(context)
        return try route.runSynchronously(request, context: inner, next: next)
    }

    private func enter(_ context: Context) throws -> (EmbeddedRoutes, Context) {
        guard let route = table[name] else { throw HTTPError(500, "invoke: named route \(name) not found") }
        let depth = (context[InvokeDepth.self] ?? 0) + 1
        if depth > Self.maxDepth { throw HTTPError(500, "invoke: named routes nested more than \(Self.maxDepth) deep (a cycle?)") }
        var inner = context
        inner[InvokeDepth.self] = depth
        return (route, inner)
    }

    /// Its route's answers are its answers.
    public var passesResponsesThrough: Bool { true }
}
