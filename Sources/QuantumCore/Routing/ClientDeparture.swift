/// Tells the handlers answering an HTTP/1 request that its client stopped waiting for the
/// answer: it closed its connection, or ended its input with this request as its last (a FIN,
/// read as Caddy and nginx read it). Work done only for that answer, such as an upstream
/// exchange, can then stop; an answer given anyway still goes out if the connection can take
/// it. One per connection, for the request in hand; loop thread only. (HTTP/2 cancels the
/// stream's task instead: each stream has its own.)
public final class ClientDeparture: @unchecked Sendable {
    @exclusivity(unchecked) private var handlers: [(token: Int, body: () -> Void)] = []
    @exclusivity(unchecked) private var nextToken = 0
    /// The client has left while this request was in hand.
    @exclusivity(unchecked) public private(set) var hasDeparted = false

    init() {}

    /// Runs `body` when the client leaves, or at once when it already has. The token ends the
    /// interest (`forget`) once the work is done.
    public func whenDeparted(_ body: @escaping () -> Void) -> Int {
        nextToken += 1
        if hasDeparted { body() } else { handlers.append((nextToken, body)) }
        return nextToken
    }

    /// Drops the `whenDeparted` registration with this token; call it once the guarded work is done.
    public func forget(_ token: Int) { handlers.removeAll { $0.token == token } }

    /// A new request is in hand; `departed` when its client has already left (its FIN came
    /// with it).
    func begin(departed: Bool) {
        handlers.removeAll(keepingCapacity: true)
        hasDeparted = departed
    }

    /// The client left: every handler runs once.
    func depart() {
        guard !hasDeparted else { return }
        hasDeparted = true
        let waiting = handlers
        handlers.removeAll()
        for h in waiting { h.body() }
    }
}
