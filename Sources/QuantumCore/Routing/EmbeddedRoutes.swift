/// A route list that runs inside a handler and continues into that handler's `next` when it
/// falls through — how `subroute` (and any handler embedding routes) behaves like inlined routes.
public struct EmbeddedRoutes: Sendable {
    private let program: RouteProgram
    private let errorProgram: RouteProgram?

    /// Build once, at provision; `errors` answer what `routes` throw (nil: the error propagates).
    public init(routes: RouteList, errors: RouteList? = nil) {
        program = RouteProgram(routes, end: .enclosing)
        // Like Caddy, error routes that handle nothing end with the error's status; they do not
        // fall through into the routes after the embedding handler.
        errorProgram = errors.map { RouteProgram($0) }
    }

    /// Call from the embedding handler's `handle`, passing its own `next` for when the routes fall through.
    public nonisolated(nonsending) func run(_ request: Request, context: Context, next: Next) async throws -> Response {
        var inner = context
        inner.tails.append(next)
        do {
            return try await program.entry(request, inner)
        } catch {
            return try await recover(from: error, request, inner)
        }
    }

    /// The synchronous run: the routes' answer, or the rest to run asynchronously (errors
    /// included, when there are error routes to run).
    public func runSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        var inner = context
        if next.hidesDeferral && inner.deferral != nil { inner.deferral = nil }
        inner.tails.append(next.async)
        let result: SyncResult
        do {
            result = try SyncNext(program.entry, hidesDeferral: false)(request, inner)
        } catch {
            guard errorProgram != nil else { throw error }
            let failed = inner
            return .suspended(Resumption { try await self.recover(from: error, request, failed) })
        }
        guard errorProgram != nil, case .suspended(let rest) = result else { return result }
        let running = inner
        return .suspended(Resumption {
            do { return try await rest() } catch { return try await self.recover(from: error, request, running) }
        })
    }

    /// The error routes' answer to `error`, or `error` itself when there are none.
    private nonisolated(nonsending) func recover(from error: any Error, _ request: Request, _ context: Context) async throws -> Response {
        guard let errorProgram else { throw error }
        let httpError = error as? HTTPError ?? HTTPError(500, "\(error)")
        var failed = context.restoringFailure()
        failed.deferral = nil
        ErrorPlaceholders.set(httpError, id: ErrorID.make(), in: &failed)
        var response = try await errorProgram.entry(request, failed)
        if response.status == 200 && ErrorPlaceholders.isDefault(response) { response.status = httpError.status }
        return response
    }
}
