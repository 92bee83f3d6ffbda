import Synchronization

/// Deals accepted connections to the loops in turn. The kernel spreads `SO_REUSEPORT`
/// connections by a hash of their addresses, which often leaves one loop with clearly more than
/// its share (64 connections split 36/28 or worse about a third of the time): the busier loop
/// then holds everyone back while the other idles. Dealt in turn, every loop holds an equal
/// share; a connection accepted on another loop's turn costs one hand-over to that loop.
final class ConnectionDealer: Sendable {
    private let listeners: [Listener]
    private let counter = Atomic<Int>(0)

    init(_ listeners: [Listener]) { self.listeners = listeners }

    func next() -> Listener {
        listeners[counter.add(1, ordering: .relaxed).oldValue % listeners.count]
    }
}
