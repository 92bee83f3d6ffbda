/// The servers this process runs, one config at a time — start, reload, stop — as Caddy runs
/// its config. The CLI's `run`, `--watch`, SIGUSR1 and the admin API all go through here.
///
/// A reload binds what is new before anything changes, then switches the listeners both configs
/// share to the new routes: their connections stay open (an idle keep-alive connection serves
/// its next request on the new routes; WebSockets and tunnels are left alone), and only
/// addresses the new config dropped stop listening. A reload that fails leaves the running
/// config exactly as it was. Upstream health lives per address for the process, so it carries
/// over. One call at a time (an actor): reloads never interleave.
package actor Instance {
    public nonisolated let group: EventLoopGroup
    /// The running config; nil before `start` and after `stop`.
    public private(set) var app: App?

    public init(group: EventLoopGroup) { self.group = group }

    /// Serves `loaded`; a config already running is replaced as by `reload`.
    @discardableResult
    public func start(_ loaded: LoadedConfig) async throws -> App {
        try await reload(loaded)
    }

    /// Replaces the running config with `loaded` (see the type's note). On failure the old one
    /// keeps serving and `loaded`'s modules are cleaned up.
    @discardableResult
    public func reload(_ loaded: LoadedConfig) async throws -> App {
        let previous = app
        let next: App
        do {
            next = try await App.start(loaded, on: group, replacing: previous)
        } catch {
            loaded.context.cleanup()
            throw error
        }
        app = next
        await previous?.stop(keeping: next.listenerIDs)
        return next
    }

    /// Stops serving: listeners close, in-flight requests get the grace period (the config's
    /// `grace_period` unless given), then every module is cleaned up.
    public func stop(graceNanos: UInt64? = nil) async {
        guard let running = app else { return }
        app = nil
        await running.stop(graceNanos: graceNanos)
    }
}
