import Synchronization

/// The admin API's listener: one address on the loops, `AdminAPI` its only route. A reload that
/// keeps the address keeps the listener (its access rules change in place, `adopt`); one that
/// moves it binds the new address before anything else changes.
package final class AdminEndpoint: Sendable {
    /// The `listen` value it was bound for.
    let listen: String
    /// The host it listens on, as the rules name it (`localhost`, `127.0.0.1`, ...).
    let host: String
    let listeners: HTTPListenerSet
    let gate: AdminGate

    private init(listen: String, host: String, listeners: HTTPListenerSet, gate: AdminGate) {
        self.listen = listen
        self.host = host
        self.listeners = listeners
        self.gate = gate
    }

    public var port: Int { listeners.port }

    /// The endpoint `admin` asks for: nil when disabled, `current` when it listens where
    /// `admin` does, else a new one bound now (refusing everyone until `adopt`).
    static func matching(_ admin: AdminConfig, defaultListen: String, current: AdminEndpoint?, group: EventLoopGroup,
                         controller: ConfigController) async throws -> AdminEndpoint? {
        guard !admin.disabled else { return nil }
        let listen = admin.listen ?? defaultListen
        if let current, current.listen == listen { return current }
        let endpoint = try AdminConfig.endpoint(listen)
        let gate = AdminGate()
        var limits = ServerLimits()
        limits.idleTimeout = 60_000_000_000
        let routes = RouteList([Route(handlers: [AdminAPI(controller: controller, gate: gate, routes: controller.adminRoutes)])])
        let runtime = ServerRuntime(name: "admin", limits: limits, routes: routes)
        do {
            switch endpoint {
            case .tcp(let host, let address):
                let listeners = try await HTTPListenerSet.bind(address, group: group, runtime: runtime, exclusive: true)
                return AdminEndpoint(listen: listen, host: host.isEmpty ? address.host : host, listeners: listeners, gate: gate)
            case .unix(let path):
                let listeners = try await HTTPListenerSet.bind(unixPath: path, group: group, runtime: runtime)
                return AdminEndpoint(listen: listen, host: "", listeners: listeners, gate: gate)
            }
        } catch {
            throw AdminBindError(listen: listen, underlying: error)
        }
    }

    /// Takes `admin`'s host and origin rules (once the config that carries them has loaded);
    /// returns them.
    @discardableResult
    func adopt(_ admin: AdminConfig) -> AdminAccess {
        let rules = listeners.unixPath != nil ? AdminAccess(unixOrigins: admin.origins, enforceOrigin: admin.enforceOrigin)
            : AdminAccess(listenHost: host, port: port, origins: admin.origins, enforceOrigin: admin.enforceOrigin)
        gate.access.withLock { $0 = rules }
        return rules
    }

    /// The address as Caddy logs it (`127.0.0.1:2019`, the bound port for port 0; `unix//path`).
    var address: String { listeners.unixPath != nil ? listen : AdminAccess.join(host, port) }

    func close() async { await listeners.shutdown(graceNanos: 1_000_000_000) }

    /// Stops listening, then says so in `logs` as Caddy does (an endpoint that served).
    func close(announcingTo logs: Logs?) async {
        await close()
        ProcessLog.write(logs, .info, logger: "admin", "stopped previous server", ["address": .string(address)])
    }
}

/// The admin handler's view of its endpoint's current rules.
final class AdminGate: Sendable {
    let access = Mutex<AdminAccess?>(nil)

    func refusal(_ request: Request) -> AdminError? {
        guard let rules = access.withLock({ $0 }) else { return AdminError(503, "the admin endpoint is starting") }
        return rules.refusal(request)
    }
}

/// The admin address could not be bound (another instance has it, say).
struct AdminBindError: Error, CustomStringConvertible {
    let listen: String
    let underlying: any Error
    var description: String {
        "cannot listen on \(listen) for the admin API: \(underlying) (another instance running? set admin.listen, or admin.disabled)"
    }
}
