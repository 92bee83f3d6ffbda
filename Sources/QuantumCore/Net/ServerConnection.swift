/// A connection a listener tracks for graceful shutdown and counting, whatever it speaks
/// (HTTP/1.1, HTTP/2, or not known yet: `ProtocolSelector`). Loop thread only.
protocol ServerConnection: AnyObject {
    /// Finish what is in flight, take nothing new (HTTP/2: GOAWAY), then close.
    func beginShutdown()
    /// Closes the socket now.
    func close()
}

extension ServerConnection {
    /// Gives this connection's socket to `next`, the protocol it turns into (a protocol chosen,
    /// an HTTP/1 connection upgraded to HTTP/2): the loop tells `next` of readiness from now on,
    /// and the listener tracks `next` in its place. The socket stays open.
    func handOver(_ transport: SocketTransport, to next: some ServerConnection & LoopIOHandler, owner: ConnectionRegistry) {
        owner.remove(self)
        owner.add(next)
        transport.handOver(to: next)
    }
}
