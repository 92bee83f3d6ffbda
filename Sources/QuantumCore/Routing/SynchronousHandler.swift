/// A handler that can also answer without suspending, so requests it serves skip the task
/// switch and are answered on the read path (the synchronous fast path of the architecture).
///
/// When it cannot answer now (it needs I/O the loop does not drive), it returns
/// `.suspended(...)` with the rest of its work: the request goes on asynchronously from there,
/// and nothing before it runs again. `next.async` is its `next` for that asynchronous part.
public protocol SynchronousHandler: Handler {
    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult

    /// True when this handler returns what its `next` returned unchanged (or answers by
    /// itself): handlers after it may then answer later through `Context.deferral`. False by
    /// default, which hides the deferral from them.
    var passesResponsesThrough: Bool { get }
}

extension SynchronousHandler {
    /// Default: false, the safe answer for a handler that edits what `next` returns.
    public var passesResponsesThrough: Bool { false }

    /// The rest of this handler's work as its own `handle` from here: for a handler that finds
    /// it must suspend before doing anything it would have to undo.
    public func suspending(_ request: Request, context: Context, next: SyncNext) -> SyncResult {
        .suspended(Resumption { try await self.handle(request, context: context, next: next.async) })
    }
}

/// What the synchronous run of a request produced: the answer, or what is left to run
/// asynchronously to get it.
public enum SyncResult: Sendable {
    case response(Response)
    case suspended(Resumption)

    /// The answer passed through `transform` — now, or once the suspended rest has run.
    public func map(_ transform: @escaping @Sendable (Response) throws -> Response) rethrows -> SyncResult {
        switch self {
        case .response(let response): return .response(try transform(response))
        case .suspended(let rest): return .suspended(rest.map(transform))
        }
    }
}

/// The asynchronous rest of a request whose synchronous run stopped: the connection runs it in
/// its task (or when a deferred answer is handed back).
public struct Resumption: Sendable {
    /// The rest of the work; it runs at most once, in the connection's task.
    public typealias Body = nonisolated(nonsending) @Sendable () async throws -> Response
    let body: Body

    /// Wraps the rest of a handler's work; usually made via `suspending(_:context:next:)` or `SyncNext`.
    public init(_ body: @escaping Body) { self.body = body }

    /// Runs the rest and returns the request's answer.
    public nonisolated(nonsending) func callAsFunction() async throws -> Response { try await body() }

    /// This rest with `transform` applied to its answer.
    public func map(_ transform: @escaping @Sendable (Response) throws -> Response) -> Resumption {
        Resumption { try transform(await self.body()) }
    }
}

/// The synchronous counterpart of `Next`: the same position in the route program, run without
/// suspending as far as the handlers there allow.
public struct SyncNext: Sendable {
    /// The same position, for the asynchronous rest of a handler that suspends.
    public let async: Next
    /// The handler holding this `next` edits what it returns: handlers after it must not defer.
    let hidesDeferral: Bool

    init(_ next: Next, hidesDeferral: Bool) {
        async = next
        self.hidesDeferral = hidesDeferral
    }

    /// Runs the rest of the chain inline where it can; what must suspend comes back as `.suspended`.
    public func callAsFunction(_ request: Request, _ context: Context) throws -> SyncResult {
        var context = context
        if hidesDeferral && context.deferral != nil { context.deferral = nil }
        switch async.target {
        case .position(let at):
            return try at.program.runInline(request, context, at: at)
        case .closure(let body):
            context.deferral = nil
            let closureContext = context
            return .suspended(Resumption { try await body(request, closureContext) })
        }
    }
}

extension RouteProgram {
    /// The synchronous run from `position`: handlers that are `SynchronousHandler`s answer
    /// inline; the first that is not (or that suspends) leaves the rest as a `Resumption`.
    func runInline(_ request: Request, _ context: Context, at position: Position) throws -> SyncResult {
        var route = position.route, handler = position.handler, context = context
        if handler < 0 {
            guard let matched = try firstMatch(from: route, request, &context) else { return try runEndInline(request, context) }
            route = matched
            handler = 0
        }
        let step = steps[route]
        if handler == step.inline.count {
            if step.route.terminal { return .response(.nothingHandled) }
            return try runInline(request, context, at: Position(program: self, route: route + 1, handler: -1))
        }
        let next = Next(Position(program: self, route: route, handler: handler + 1))
        guard let inline = step.inline[handler] else {
            // No synchronous form: this handler and what follows run asynchronously.
            let handler = step.handlers[handler]
            context.deferral = nil
            let handlerContext = context
            return .suspended(Resumption {
                do { return try await handler.handle(request, context: handlerContext, next: next) } catch {
                    handlerContext.recordFailure()
                    throw error
                }
            })
        }
        let result: SyncResult
        do {
            result = try inline.respondSynchronously(request, context: context, next: SyncNext(next, hidesDeferral: !inline.passesResponsesThrough))
        } catch {
            context.recordFailure()
            throw error
        }
        // A failure in the asynchronous rest is recorded where this handler ran, as `run` does.
        guard case .suspended(let rest) = result, context.scope != nil else { return result }
        let handlerContext = context
        return .suspended(Resumption {
            do { return try await rest() } catch {
                handlerContext.recordFailure()
                throw error
            }
        })
    }

    private func runEndInline(_ request: Request, _ context: Context) throws -> SyncResult {
        switch end {
        case .emptyResponse:
            return .response(.nothingHandled)
        case .enclosing:
            var context = context
            let outer = context.tails.removeLast()
            return try SyncNext(outer, hidesDeferral: false)(request, context)
        }
    }
}
