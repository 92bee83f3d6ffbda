import CQuantumLinux
import Glibc
import Synchronization

/// The connections a loop owns for one server, for shutdown and counting.
/// `@unchecked Sendable`: loop-confined; shutdown and counting read it through `loop.submit`.
final class ConnectionRegistry: @unchecked Sendable {
    @exclusivity(unchecked) private(set) var connections: [ObjectIdentifier: any ServerConnection] = [:]
    func add(_ c: any ServerConnection) { connections[ObjectIdentifier(c)] = c }
    func remove(_ c: any ServerConnection) { connections[ObjectIdentifier(c)] = nil }
}

/// A listening socket owned by one loop (`SO_REUSEPORT`: each loop has its own).
/// `@unchecked Sendable`: loop-confined; other threads reach it only through its loop.
final class Listener: LoopIOHandler, @unchecked Sendable {
    let fd: Int32
    unowned let loop: EventLoop
    let address: SocketAddress
    let runtimes: RuntimeSlot
    let registry = ConnectionRegistry()
    @exclusivity(unchecked) private var closed = false

    init(fd: Int32, loop: EventLoop, runtime: ServerRuntime) {
        self.fd = fd
        self.loop = loop
        runtimes = RuntimeSlot(runtime, loop: loop)
        address = Sockets.localAddress(fd)
    }

    /// New connections, and idle ones for their next request, use `runtime` once this returns.
    func replaceRuntime(_ runtime: ServerRuntime) async { await runtimes.replace(with: runtime) }

    /// Deals this address's accepted connections to every loop's listener in turn (loop thread;
    /// let go when accepting stops, which ends the dealer's reference cycle with its listeners).
    @exclusivity(unchecked) var dealer: ConnectionDealer?

    func readable(_ events: IOEvents) {
        guard !closed else { return }
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let cfd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cq_accept4(fd, $0, &len) }
            }
            if cfd < 0 {
                let code = cq_errno()
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM { pauseAccepting(code) }
                return
            }
            if Self.exhaustionReported.load(ordering: .relaxed) { Self.exhaustionReported.store(false, ordering: .relaxed) }
            let peer = SocketAddress(storage: storage)
            if let target = dealer?.next(), target !== self {
                target.loop.execute { target.adopt(cfd, peer: peer) }
            } else {
                adopt(cfd, peer: peer)
            }
        }
    }

    /// Out of descriptors (or memory), `accept` fails while the connection stays queued, so a
    /// level-triggered listener would wake again at once and spin. Instead the listener stops
    /// watching for a moment (as nginx does), and the queued connections wait in the backlog
    /// until descriptors are free again.
    private func pauseAccepting(_ code: Int32) {
        guard !paused else { return }
        paused = true
        loop.modify(fd, events: 0)
        if !Self.exhaustionReported.exchange(true, ordering: .relaxed) {
            ServerLog.warn("http", "accept: \(String(cString: strerror(code))); pausing accepts for \(Self.pauseNanos / 1_000_000) ms at a time until descriptors are free")
        }
        loop.schedule(afterNanoseconds: Self.pauseNanos) { [self] in
            paused = false
            if !closed { loop.modify(fd, events: EPOLLIN.rawValue) }
        }
    }

    @exclusivity(unchecked) private var paused = false
    static let pauseNanos: UInt64 = 100_000_000
    /// Logged once an episode (across loops): set when accepting first fails, cleared by a success.
    private static let exhaustionReported = Atomic<Bool>(false)

    /// Serves an accepted connection on this listener's loop (loop thread).
    func adopt(_ cfd: Int32, peer: SocketAddress) {
        guard !closed else { Glibc.close(cfd); return }
        let current = runtimes.current
        Sockets.setNoDelay(cfd)
        if let interval = current.limits.keepaliveInterval { Sockets.setKeepAlive(cfd, seconds: Int32(clamping: interval / 1_000_000_000)) }
        var wire = SocketTransport.Wire.plain
        if let tls = current.tls {
            guard let session = tls.makeSession(fd: cfd) else { Glibc.close(cfd); return }
            wire = .tls(session)
        }
        let io = SocketTransport(fd: cfd, loop: loop, wire: wire)
        let info = ConnectionInfo(remoteAddress: peer, localAddress: address, isTLS: current.tls != nil)
        if ProtocolSelector.needed(tls: current.tls != nil, protocols: current.protocols) {
            let selector = ProtocolSelector(io: io, runtimes: runtimes, info: info, owner: registry)
            guard (try? io.register(selector)) != nil else { Glibc.close(cfd); return }
            registry.add(selector)
        } else {
            let connection = HTTP1Connection(io: io, runtimes: runtimes, info: info, owner: registry, since: io.lastRead)
            guard (try? io.register(connection)) != nil else { Glibc.close(cfd); return }
            registry.add(connection)
            connection.start()
        }
    }

    func writable() {}
    func tick(now: UInt64) {}

    /// Stops accepting (loop thread).
    func stopAccepting() {
        guard !closed else { return }
        closed = true
        dealer = nil
        loop.deregister(fd)
        Glibc.close(fd)
    }
}
