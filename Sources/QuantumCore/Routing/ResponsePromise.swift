import Synchronization

/// Lets a synchronous handler answer after its chain has returned — from the event loop, once
/// I/O the loop already drives completes — so the request never needs a task. This is how
/// `reverse_proxy` serves a reply from a pooled upstream connection, as nginx does: no
/// suspension, no second pass through the routes.
///
/// An HTTP/1.1 connection offers one in `Context.deferral` while it runs the synchronous chain.
/// The chain hides it from the handlers after one that edits what its `next` returned (see
/// `SynchronousHandler.passesResponsesThrough`), since that edit would be skipped.
/// `@unchecked Sendable`: loop-confined; only the connection's synchronous chain call, on its loop, uses it.
public final class DeferralOffer: @unchecked Sendable {
    /// The connection, alive whenever `isOpen` is (it opens the offer only around its own call).
    unowned(unsafe) let owner: any PromiseOwner
    /// True only during the synchronous chain call the offer was made for.
    @exclusivity(unchecked) var isOpen = false

    init(owner: any PromiseOwner) { self.owner = owner }

    /// Takes the request over. The handler then returns `.suspended` from
    /// `respondSynchronously` with what to run if it hands the request back, and settles the
    /// promise once. Nil when the offer has lapsed (the chain
    /// call it was made for has returned) or was already taken.
    public func take() -> ResponsePromise? {
        guard isOpen else { return nil }
        return owner.makePromise()
    }
}

/// A response promised through `DeferralOffer.take()`. Settle it once; settling again does
/// nothing, and a promise dropped unsettled hands its request back (so no client waits forever
/// on a handler that lost track of it).
/// `@unchecked Sendable`: `owner` never changes; settling once is an atomic exchange, from any
/// thread, and what it tells the owner runs on the owner's loop.
public final class ResponsePromise: @unchecked Sendable {
    /// The connection waiting for this answer (strong: the connection holds the promise only by
    /// identity, so no cycle).
    private let owner: any PromiseOwner
    private let settled = Atomic<Bool>(false)

    init(owner: any PromiseOwner) { self.owner = owner }

    deinit { settle(.handBack) }

    /// The answer. A `.stream` body is written by the connection's task.
    public func succeed(_ response: consuming Response) { settle(.response(consume response)) }

    /// Nothing reached the client yet: the request goes on asynchronously with the
    /// `Resumption` the handler returned when it took the promise (which may read what the
    /// handler learned meanwhile, so it neither repeats nor loses it).
    public func handBack() { settle(.handBack) }

    /// Runs `body` on the loop when the client stops waiting for this answer: its connection
    /// closed, or it ended its input with this request as its last (a FIN, read as Caddy and
    /// nginx read it). Work done only for this answer can stop then (the reverse proxy closes
    /// its upstream connection); an answer given anyway still goes out if the connection can
    /// take it. Settling drops `body`. Call on the loop.
    public func onClientGone(_ body: @escaping () -> Void) {
        guard !settled.load(ordering: .acquiring), owner.awaits(ObjectIdentifier(self)) else { body(); return }
        owner.whenClientGone(ObjectIdentifier(self), body)
    }

    /// The connection went away (or the promise was settled): an answer would be dropped.
    /// Read on the loop.
    public var isCancelled: Bool { settled.load(ordering: .acquiring) || !owner.awaits(ObjectIdentifier(self)) }

    private func settle(_ outcome: consuming PromiseOutcome) {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let owner = self.owner, id = ObjectIdentifier(self)
        if owner.loop.inEventLoop {
            owner.settle(id, consume outcome)
        } else {
            let outcome = copy outcome
            owner.loop.execute { owner.settle(id, outcome) }
        }
    }
}

enum PromiseOutcome: Sendable {
    case response(Response)
    case handBack
}

/// A connection that can wait for a promised response (loop-confined).
protocol PromiseOwner: AnyObject, Sendable {
    var loop: EventLoop { get }
    func makePromise() -> ResponsePromise?
    /// Whether `promise` is the one this connection still waits for.
    func awaits(_ promise: ObjectIdentifier) -> Bool
    func settle(_ promise: ObjectIdentifier, _ outcome: consuming PromiseOutcome)
    /// Runs `body` when the client stops waiting for `promise` (see `ResponsePromise.onClientGone`).
    func whenClientGone(_ promise: ObjectIdentifier, _ body: @escaping () -> Void)
}
