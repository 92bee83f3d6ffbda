import Glibc

/// A connection a listener tracks for graceful shutdown and counting, whatever it speaks
/// (HTTP/1.1, or HTTP/2 once a connection switched over). Loop thread only.
protocol ServerConnection: AnyObject {
    /// Finish what is in flight, take nothing new (HTTP/2: GOAWAY), then close.
    func beginShutdown()
    /// Closes the socket now.
    func close()
}

extension ServerConnection {
    /// The socket's end, the same for every protocol: out of epoll, the TLS session told, the
    /// descriptor closed, off the listener's registry. The connection then ends its own state.
    func releaseSocket(_ fd: Int32, loop: EventLoop, transport: ConnectionTransport, owner: ConnectionRegistry) {
        loop.deregister(fd)
        transport.closing()
        Glibc.close(fd)
        owner.remove(self)
    }
}
