import QuantumCore

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
        table.expect(name, at: decoder.codingPath + [CodingKeys.name])
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard let route = table[name] else { throw HTTPError(500, "invoke: named route \(name) not found") }
        return try await route.run(request, context: context, next: next)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        guard let route = table[name] else { throw HTTPError(500, "invoke: named route \(name) not found") }
        return try route.runSynchronously(request, context: context, next: next)
    }

    /// Its route's answers are its answers.
    public var passesResponsesThrough: Bool { true }
}
