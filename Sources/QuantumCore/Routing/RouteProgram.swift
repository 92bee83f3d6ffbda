/// A route list compiled once, run by position: the asynchronous run here and the synchronous
/// one (`runInline`) are two ways of running the same program, and a request that leaves the
/// synchronous run resumes asynchronously at the handler where it stopped — no matcher or
/// handler runs twice.
///
/// Caddy's semantics: routes run in order; a matching route's handlers run with `next`
/// continuing into the following routes; `terminal` ends the list there; only the first matching
/// route of a `group` runs. After the last route comes `end`.
final class RouteProgram: Sendable {
    /// Where a `Next` resumes: handler `handler` of route `route`, or, with `handler` −1, the
    /// first route from `route` on that applies.
    struct Position: Sendable {
        let program: RouteProgram
        let route: Int
        let handler: Int
    }

    /// What follows the last route.
    enum End: Sendable {
        /// Caddy's empty 200.
        case emptyResponse
        /// The `next` of the handler running this list (`EmbeddedRoutes`), from `Context.tails`.
        case enclosing
    }

    /// A route as the interpreters read it (a class: one reference count per visit, not one per field).
    final class Step: Sendable {
        let route: Route
        let handlers: [any Handler]
        /// The handlers' synchronous forms (nil for a handler that has none).
        let inline: [(any SynchronousHandler)?]
        let alwaysApplies: Bool

        init(_ route: Route) {
            self.route = route
            handlers = route.handlers
            inline = route.handlers.map { $0 as? any SynchronousHandler }
            alwaysApplies = route.alwaysApplies
        }
    }

    let steps: [Step]
    let end: End

    init(_ routes: RouteList, end: End = .emptyResponse) {
        steps = routes.routes.map(Step.init)
        self.end = end
    }

    /// The program from its first route.
    var entry: Next { Next(Position(program: self, route: 0, handler: -1)) }

    /// The first route from `route` on that applies; `context` becomes the one its handlers run with.
    func firstMatch(from route: Int, _ request: Request, _ context: inout Context) throws -> Int? {
        var r = route
        while r < steps.count {
            let step = steps[r]
            if step.alwaysApplies { return r }
            if let matched = try step.route.enter(request, context) {
                context = matched
                return r
            }
            r += 1
        }
        return nil
    }

    nonisolated(nonsending) func run(_ request: Request, _ context: Context, at position: Position) async throws -> Response {
        var route = position.route, handler = position.handler, context = context
        if handler < 0 {
            guard let matched = try firstMatch(from: route, request, &context) else { return try await runEnd(request, context) }
            route = matched
            handler = 0
        }
        let step = steps[route]
        let handlers = step.handlers
        if handler == handlers.count {
            if step.route.terminal { return .nothingHandled }
            return try await run(request, context, at: Position(program: self, route: route + 1, handler: -1))
        }
        do {
            return try await handlers[handler].handle(request, context: context, next: Next(Position(program: self, route: route, handler: handler + 1)))
        } catch {
            context.recordFailure()
            throw error
        }
    }

    private nonisolated(nonsending) func runEnd(_ request: Request, _ context: Context) async throws -> Response {
        switch end {
        case .emptyResponse:
            return .nothingHandled
        case .enclosing:
            var context = context
            let outer = context.tails.removeLast()
            return try await outer(request, context)
        }
    }
}
