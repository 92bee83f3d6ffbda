/// A route list that runs inside a handler and continues into that handler's `next` when it
/// falls through — how `subroute` (and any handler embedding routes) behaves like inlined routes.
public struct EmbeddedRoutes: Sendable {
    private let chain: Next
    private let errorChain: Next?
    private let syncChain: SyncNext

    public init(routes: RouteList, errors: RouteList? = nil) {
        let tail = Next { request, context in
            var context = context
            let outer = context.tails.removeLast()
            return try await outer(request, context)
        }
        chain = routes.compile(tail: tail)
        // Like Caddy, error routes that handle nothing end with the error's status; they do not
        // fall through into the routes after the embedding handler.
        errorChain = errors?.compile()
        syncChain = routes.compileSynchronous(tail: SyncNext { request, context in
            var context = context
            let outer = context.syncTails.removeLast()
            return try outer(request, context)
        })
    }

    /// The synchronous fast path: nil when the routes need the async path (errors included).
    public func runSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> Response? {
        var inner = context
        inner.syncTails.append(next)
        return try syncChain(request, inner)
    }

    public nonisolated(nonsending) func run(_ request: Request, context: Context, next: Next) async throws -> Response {
        var inner = context
        inner.tails.append(next)
        do {
            return try await chain(request, inner)
        } catch {
            guard let errorChain else { throw error }
            let httpError = error as? HTTPError ?? HTTPError(500, "\(error)")
            var failed = inner.restoringFailure()
            ErrorPlaceholders.set(httpError, in: &failed)
            var response = try await errorChain(request, failed)
            if response.status == 200 && ErrorPlaceholders.isDefault(response) { response.status = httpError.status }
            return response
        }
    }
}
