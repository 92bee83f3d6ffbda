/// A route list that runs inside a handler and continues into that handler's `next` when it
/// falls through — how `subroute` (and any handler embedding routes) behaves like inlined routes.
public struct EmbeddedRoutes: Sendable {
    private let chain: Next
    private let errorChain: Next?

    public init(routes: RouteList, errors: RouteList? = nil) {
        let tail = Next { request, context in
            var context = context
            let outer = context.tails.removeLast()
            return try await outer(request, context)
        }
        chain = routes.compile(tail: tail)
        errorChain = errors?.compile(tail: tail)
    }

    public nonisolated(nonsending) func run(_ request: Request, context: Context, next: Next) async throws -> Response {
        var inner = context
        inner.tails.append(next)
        do {
            return try await chain(request, inner)
        } catch {
            guard let errorChain else { throw error }
            let httpError = error as? HTTPError ?? HTTPError(500, "\(error)")
            ErrorPlaceholders.set(httpError, in: &inner)
            var response = try await errorChain(request, inner)
            if response.status == 200 && ErrorPlaceholders.isDefault(response) { response.status = httpError.status }
            return response
        }
    }
}
