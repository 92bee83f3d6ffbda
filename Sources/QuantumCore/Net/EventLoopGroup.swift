import CQuantumLinux
import Glibc
import Synchronization

/// The server's event loops: one per core by default.
package final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    /// TCP ports this group's own listener sets hold (how many each): a reload may bind one of
    /// them again in another form (`:8080` after `127.0.0.1:8080`) while the old set still has
    /// it, which the probe for other holders would take for a stranger.
    let heldPorts = Mutex<[Int: Int]>([:])

    /// Cores this process may run on (respects CPU affinity).
    public static var coreCount: Int { Int(cq_available_cpus()) }

    public init(loopCount: Int = EventLoopGroup.coreCount) throws {
        // A write to a connection the peer reset must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        loops = try (0..<max(1, loopCount)).map { try EventLoop(index: $0) }
        for loop in loops { loop.start() }
    }

    public func shutdown() {
        for loop in loops { loop.stopAndJoin() }
    }
}

/// One listen address served by every loop of a group, each through its own socket.
package final class HTTPListenerSet: Sendable {
    /// The bound address (port 0 resolved).
    public let address: SocketAddress
    /// The address the config asked for: what a reload matches listeners by.
    public let requested: SocketAddress
    /// The socket file of a Unix listener (removed when it shuts down); nil for TCP.
    public let unixPath: String?
    private let listeners: [Listener]

    /// Binds `address` on every loop. Port 0 picks one free port, shared by all loops.
    /// `exclusive`: one socket on the first loop that no other process can bind as well.
    public static func bind(_ address: SocketAddress, group: EventLoopGroup, runtime: ServerRuntime,
                            exclusive: Bool = false) async throws -> HTTPListenerSet {
        var bound = address
        var listeners: [Listener] = []
        if !exclusive && address.port != 0 && group.heldPorts.withLock({ $0[address.port] == nil }) { try Sockets.ensureFree(address) }
        do {
            for loop in exclusive ? [group.loops[0]] : group.loops {
                let fd = try Sockets.listen(bound, exclusive: exclusive)
                if bound.port == 0 { bound = SocketAddress(family: bound.family, bytes: bound.bytes, port: Sockets.localAddress(fd).port) }
                listeners.append(try await listening(fd, on: loop, runtime: runtime))
            }
        } catch {
            for l in listeners { await l.loop.submit { l.stopAccepting() } }
            throw error
        }
        if listeners.count > 1 {
            let dealer = ConnectionDealer(listeners)
            for l in listeners { await l.loop.submit { l.dealer = dealer } }
        }
        group.heldPorts.withLock { $0[bound.port, default: 0] += 1 }
        return HTTPListenerSet(address: bound, requested: address, listeners: listeners, group: group)
    }

    /// Binds a Unix socket at `path` on the group's first loop (the admin endpoint's form).
    public static func bind(unixPath path: String, group: EventLoopGroup, runtime: ServerRuntime) async throws -> HTTPListenerSet {
        let fd = try Sockets.listenUnix(path)
        do {
            let listener = try await listening(fd, on: group.loops[0], runtime: runtime)
            return HTTPListenerSet(address: .unspecified, requested: .unspecified, listeners: [listener], unixPath: path)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// A listener accepting on `fd` on `loop` (the socket is closed when that fails).
    private static func listening(_ fd: Int32, on loop: EventLoop, runtime: ServerRuntime) async throws -> Listener {
        let listener = Listener(fd: fd, loop: loop, runtime: runtime)
        do {
            try await loop.submit { Result { try loop.register(fd, handler: listener, events: EPOLLIN.rawValue) } }.get()
        } catch {
            close(fd)
            throw error
        }
        return listener
    }

    /// The group whose `heldPorts` counts this set (TCP sets only), released at shutdown.
    private let group: EventLoopGroup?
    private let released = Atomic<Bool>(false)

    private init(address: SocketAddress, requested: SocketAddress, listeners: [Listener], unixPath: String? = nil, group: EventLoopGroup? = nil) {
        self.address = address
        self.requested = requested
        self.listeners = listeners
        self.unixPath = unixPath
        self.group = group
    }

    public var port: Int { address.port }

    /// Connections accepted from now on use `runtime`, and so do open ones from their next
    /// request on (see `RuntimeSlot`); in place on every loop when this returns.
    public func replaceRuntime(_ runtime: ServerRuntime) async {
        for l in listeners { await l.replaceRuntime(runtime) }
    }

    /// Open connections on each loop, in loop order: how evenly the loops share the clients.
    public func connectionCounts() async -> [Int] {
        var counts: [Int] = []
        for l in listeners { counts.append(await l.loop.submit { l.registry.connections.count }) }
        return counts
    }

    /// Open connections across loops.
    public func connectionCount() async -> Int { await connectionCounts().reduce(0, +) }

    /// Stops accepting, lets in-flight requests finish for up to `graceNanos`, then closes the rest.
    public func shutdown(graceNanos: UInt64?) async {
        for l in listeners {
            await l.loop.submit {
                l.stopAccepting()
                for c in l.registry.connections.values { c.beginShutdown() }
            }
        }
        if let unixPath { unlink(unixPath) }
        if let group, !released.exchange(true, ordering: .relaxed) {
            group.heldPorts.withLock { held in
                held[address.port, default: 1] -= 1
                if held[address.port] == 0 { held[address.port] = nil }
            }
        }
        let deadline = graceNanos.map { SystemClock.monotonicNanos() &+ $0 }
        while await connectionCount() > 0 {
            if let deadline, SystemClock.monotonicNanos() >= deadline { break }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        for l in listeners {
            await l.loop.submit { for c in l.registry.connections.values { c.close() } }
        }
    }
}
