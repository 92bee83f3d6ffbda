import QuantumCore

/// `subroute`: a nested route list with its own error routes.
public struct Subroute: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.subroute"

    public var routes: RouteList
    public var errors: ErrorRoutes?
    private let embedded: EmbeddedRoutes

    enum CodingKeys: String, CodingKey, CaseIterable { case routes, errors }

    public init(routes: RouteList, errors: ErrorRoutes? = nil) {
        self.routes = routes
        self.errors = errors
        embedded = EmbeddedRoutes(routes: routes, errors: errors?.routes)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(routes: try c.decodeIfPresent(RouteList.self, forKey: .routes) ?? RouteList([]),
                  errors: try c.decodeIfPresent(ErrorRoutes.self, forKey: .errors))
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        try await embedded.run(request, context: context, next: next)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        try embedded.runSynchronously(request, context: context, next: next)
    }

    /// Its routes' answers are its answers (their own handlers decide about the deferral).
    public var passesResponsesThrough: Bool { true }
}
