/// The synchronous counterpart of `Next`. A nil response means "this request needs the async
/// path": the connection then runs it through `Handler.handle` from the start.
public struct SyncNext: Sendable {
    public typealias Body = @Sendable (Request, Context) throws -> Response?
    @usableFromInline let body: Body

    public init(_ body: @escaping Body) { self.body = body }

    @inlinable
    public func callAsFunction(_ request: Request, _ context: Context) throws -> Response? { try body(request, context) }

    /// Caddy's empty 200 at the end of every chain.
    public static let emptyResponse = SyncNext { _, _ in Response(status: 200) }
    /// A chain that must run asynchronously.
    public static let unavailable = SyncNext { _, _ in nil }
}

/// A handler that can also answer without suspending, so requests it serves skip the task
/// switch and are answered on the read path (the synchronous fast path of DESIGN.md).
///
/// `respondSynchronously` must have no side effects when it returns nil or throws: the request
/// is then handled again, asynchronously, from the first route — unless it took the context's
/// `deferral`, and so answers later.
public protocol SynchronousHandler: Handler {
    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> Response?

    /// True when this handler returns what its `next` returned unchanged (or answers by
    /// itself): handlers after it may then answer later through `Context.deferral`. False by
    /// default, which hides the deferral from them.
    var passesResponsesThrough: Bool { get }
}

extension SynchronousHandler {
    public var passesResponsesThrough: Bool { false }
}

extension SyncNext {
    /// This chain with the context's deferral withdrawn.
    var withoutDeferral: SyncNext {
        SyncNext { request, context in
            guard context.deferral != nil else { return try self(request, context) }
            var context = context
            context.deferral = nil
            return try self(request, context)
        }
    }
}

extension RouteList {
    /// The synchronous chain with the same semantics as `compile`; routes with a handler that
    /// is not a `SynchronousHandler` yield nil when they match.
    public func compileSynchronous(tail: SyncNext = .emptyResponse) -> SyncNext {
        var next = tail
        for route in routes.reversed() {
            let rest = next
            var chain = route.terminal ? SyncNext.emptyResponse : rest
            for handler in route.handlers.reversed() {
                guard let sync = handler as? any SynchronousHandler else { chain = .unavailable; break }
                let inner = sync.passesResponsesThrough ? chain : chain.withoutDeferral
                chain = SyncNext { request, context in try sync.respondSynchronously(request, context: context, next: inner) }
            }
            let handlersChain = chain
            if route.alwaysApplies {
                next = handlersChain
                continue
            }
            next = SyncNext { request, context in
                guard let matched = try route.enter(request, context) else { return try rest(request, context) }
                return try handlersChain(request, matched)
            }
        }
        return next
    }
}
