/// Lets a synchronous handler answer after its chain has returned — from the event loop, once
/// I/O the loop already drives completes — so the request never needs a task. This is how
/// `reverse_proxy` serves a reply from a pooled upstream connection, as nginx does: no
/// suspension, no second pass through the routes.
///
/// An HTTP/1.1 connection offers one in `Context.deferral` while it runs the synchronous chain.
/// The chain hides it from the handlers after one that edits what its `next` returned (see
/// `SynchronousHandler.passesResponsesThrough`), since that edit would be skipped.
public final class ResponseDeferral: @unchecked Sendable {
    /// The connection, alive whenever `isOpen` is (it opens the offer only around its own call).
    unowned(unsafe) let owner: any DeferredResponseOwner
    /// True only during the synchronous chain call the offer was made for.
    @exclusivity(unchecked) var isOpen = false

    init(owner: any DeferredResponseOwner) { self.owner = owner }

    /// Takes the request over. The handler then returns nil from `respondSynchronously` and
    /// settles the result exactly once, on the context's loop. Nil when the offer has lapsed
    /// (the chain call it was made for has returned) or was already taken.
    public func take() -> DeferredResponse? {
        guard isOpen else { return nil }
        return owner.takeDeferral()
    }
}

/// A response promised through `ResponseDeferral.take()`. Settle it on its loop.
public final class DeferredResponse: @unchecked Sendable {
    /// Strong until settled (or the connection closes): the connection waits for this answer.
    @exclusivity(unchecked) var owner: (any DeferredResponseOwner)?

    init(owner: any DeferredResponseOwner) { self.owner = owner }

    /// The answer. A `.stream` body is written by the connection's task.
    public func succeed(_ response: Response) { settle(.response(response)) }

    /// Nothing reached the client yet: the request runs through the asynchronous chain from its
    /// first route instead, with `note` in its context under `DeferralNote` (what the deferred
    /// attempt already decided or learned, so the handler neither repeats nor loses it).
    public func fallBack(note: (any Sendable)? = nil) { settle(.fallBack(note)) }

    /// The connection went away first: the answer would be dropped.
    public var isCancelled: Bool { owner == nil }

    private func settle(_ outcome: DeferredOutcome) {
        guard let owner else { return }
        self.owner = nil
        owner.settle(self, outcome)
    }
}

/// What a handler left for the asynchronous run of a request it gave back (`fallBack(note:)`).
public enum DeferralNote: ContextKey { public typealias Value = any Sendable }

enum DeferredOutcome {
    case response(Response)
    case fallBack((any Sendable)?)
}

/// A connection that can wait for a deferred response.
protocol DeferredResponseOwner: AnyObject {
    func takeDeferral() -> DeferredResponse?
    func settle(_ deferred: DeferredResponse, _ outcome: DeferredOutcome)
}
