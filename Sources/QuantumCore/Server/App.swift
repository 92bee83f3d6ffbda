/// A running config: every server's listeners bound on the loops, with their compiled routes.
public final class App: Sendable {
    /// One running server of `apps.http.servers`.
    public struct RunningServer: Sendable {
        public let name: String
        public let listeners: [HTTPListenerSet]
        public let runtime: ServerRuntime
    }

    public let servers: [RunningServer]
    public let loaded: LoadedConfig
    let gracePeriod: UInt64?

    private init(servers: [RunningServer], loaded: LoadedConfig, gracePeriod: UInt64?) {
        self.servers = servers
        self.loaded = loaded
        self.gracePeriod = gracePeriod
    }

    /// Binds every server's listen addresses and starts serving. Nothing stays bound on failure.
    public static func start(_ loaded: LoadedConfig, on group: EventLoopGroup) async throws -> App {
        var running: [RunningServer] = []
        let http = loaded.config.apps.http
        try loaded.tls.startManaging()
        do {
            for name in (http?.servers.keys.sorted() ?? []) {
                let config = http!.servers[name]!
                let runtime = ServerRuntime(
                    name: name, limits: config.limits, routes: config.routes, errors: config.errors?.routes,
                    clientIP: config.clientIPResolver,
                    tls: loaded.tls.servers[name], strictSNIHost: config.strictSNIHost,
                    protocols: HTTPProtocols(config.protocols))
                var sets: [HTTPListenerSet] = []
                do {
                    for text in config.listen {
                        for address in try ListenAddress.parse(text).socketAddresses() {
                            sets.append(try await HTTPListenerSet.bind(address, group: group, runtime: runtime))
                        }
                    }
                } catch {
                    for s in sets { await s.shutdown(graceNanos: 0) }
                    throw error
                }
                running.append(RunningServer(name: name, listeners: sets, runtime: runtime))
            }
        } catch {
            for server in running { for s in server.listeners { await s.shutdown(graceNanos: 0) } }
            loaded.tls.stopWatching()
            throw error
        }
        let grace = http?.gracePeriod?.positiveNanos
        loaded.tls.startWatching()
        return App(servers: running, loaded: loaded, gracePeriod: grace)
    }

    /// The first bound port of server `name` (useful with port 0).
    public func port(of name: String) -> Int? { servers.first { $0.name == name }?.listeners.first?.port }

    /// Stops accepting, lets in-flight requests finish within the grace period, then cleans up.
    public func stop(graceNanos: UInt64? = nil) async {
        let grace = graceNanos ?? gracePeriod
        await withTaskGroup(of: Void.self) { group in
            for server in servers { for l in server.listeners { group.addTask { await l.shutdown(graceNanos: grace) } } }
        }
        loaded.tls.stopWatching()
        loaded.context.cleanup()
    }
}
