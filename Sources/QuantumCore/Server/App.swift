/// A running config: every server's listeners bound on the loops, with their compiled routes.
package final class App: Sendable {
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
    ///
    /// With `previous` (a reload), an address `previous` already listens on is taken over, not
    /// bound again: its listener switches to this config's routes once everything else is bound,
    /// and the connections it accepted stay open (see `RuntimeSlot`). `previous` then stops with
    /// `stop(keeping: self.listenerIDs)`. On failure `previous` is left exactly as it was.
    public static func start(_ loaded: LoadedConfig, on group: EventLoopGroup, replacing previous: App? = nil) async throws -> App {
        var spare: [String: [HTTPListenerSet]] = [:]
        for server in previous?.servers ?? [] {
            for set in server.listeners { spare[set.requested.description, default: []].append(set) }
        }
        var running: [RunningServer] = []
        var bound: [HTTPListenerSet] = []  // bound here: what a failure closes again
        var takeovers: [(HTTPListenerSet, ServerRuntime)] = []
        let http = loaded.config.apps.http
        try loaded.tls.startManaging()
        do {
            for name in (http?.servers.keys.sorted() ?? []) {
                let config = http!.servers[name]!
                let counted = config.metrics != nil || http!.metrics != nil
                let runtime = ServerRuntime(
                    name: name, limits: config.limits,
                    routes: counted ? InstrumentedHandler.instrument(config.routes, server: name) : config.routes,
                    errors: config.errors?.routes,
                    clientIP: config.clientIPResolver,
                    tls: loaded.tls.servers[name], strictSNIHost: config.strictSNIHost,
                    protocols: HTTPProtocols(config.protocols), accessLog: config.logs.map { AccessLog($0, logs: loaded.logs) },
                    errorLog: ErrorLog(logs: loaded.logs, credentials: config.logs?.shouldLogCredentials ?? false))
                var sets: [HTTPListenerSet] = []
                for text in config.listen {
                    for address in try ListenAddress.parse(text).socketAddresses() {
                        if let set = spare[address.description]?.popLast() {
                            takeovers.append((set, runtime))
                            sets.append(set)
                        } else {
                            let set = try await HTTPListenerSet.bind(address, group: group, runtime: runtime)
                            bound.append(set)
                            sets.append(set)
                        }
                    }
                }
                running.append(RunningServer(name: name, listeners: sets, runtime: runtime))
            }
        } catch {
            for set in bound { await set.shutdown(graceNanos: 0) }
            loaded.tls.stopWatching()
            throw error
        }
        // Everything is bound: only now do shared listeners switch (a failure above left them alone).
        for (set, runtime) in takeovers { await set.replaceRuntime(runtime) }
        let grace = http?.gracePeriod?.positiveNanos
        loaded.tls.startWatching()
        return App(servers: running, loaded: loaded, gracePeriod: grace)
    }

    /// The listener sets this app serves on, by identity (what a reload keeps open).
    public var listenerIDs: Set<ObjectIdentifier> {
        Set(servers.flatMap { $0.listeners.map(ObjectIdentifier.init) })
    }

    /// The first bound port of server `name` (useful with port 0).
    public func port(of name: String) -> Int? { servers.first { $0.name == name }?.listeners.first?.port }

    /// Stops accepting, lets in-flight requests finish within the grace period, then cleans up.
    /// Listener sets in `keeping` (taken over by the app a reload started) stay open, with their
    /// connections.
    public func stop(graceNanos: UInt64? = nil, keeping: Set<ObjectIdentifier> = []) async {
        let grace = graceNanos ?? gracePeriod
        await withTaskGroup(of: Void.self) { group in
            for server in servers {
                for l in server.listeners where !keeping.contains(ObjectIdentifier(l)) {
                    group.addTask { await l.shutdown(graceNanos: grace) }
                }
            }
        }
        loaded.tls.stopWatching()
        loaded.context.cleanup()
    }
}
