import Glibc

/// The running config's one writer: every change — the admin API's `/load` and `/config`
/// edits, SIGUSR1, `--watch` — goes through here and then through `Instance.reload`. It keeps the
/// config's raw JSON (what `GET /config/` answers), saves each config that loads (`autosave.json`,
/// for `run --resume`) and runs the admin endpoint the config asks for. A change that fails changes
/// nothing: the old config keeps serving, and its JSON stays what the API reads.
package actor ConfigController {
    /// Parses and provisions a config (the CLI's registry, working directory and adapters).
    public typealias Loader = @Sendable (_ json: [UInt8]) throws -> LoadedConfig
    /// Turns a config in another format into JSON (`/load` with `Content-Type: text/<name>`).
    public typealias Adapter = @Sendable (_ input: [UInt8]) throws -> [UInt8]

    public nonisolated let instance: Instance
    private let loader: Loader
    /// Where the last good config is saved; nil: nowhere.
    private let autosavePath: String?
    /// The admin address when a config leaves `admin.listen` unset (`CADDY_ADMIN`, as Caddy).
    private let defaultAdminListen: String
    /// Called after `POST /stop` has been answered.
    private let onStop: @Sendable () -> Void
    /// Endpoints modules add to the API (`ModuleRegistry.adminRoutes`).
    nonisolated let adminRoutes: [AdminRoute]
    /// Config adapters by name (`caddyfile`), for `/load` bodies that are not JSON.
    nonisolated let adapters: [String: Adapter]
    public private(set) var document = ConfigDocument()
    private var endpoint: AdminEndpoint?
    private var loadedOnce = false
    /// The running config's logs: where the process's own entries go (`ProcessLog`).
    public private(set) var logs: Logs?

    public init(instance: Instance, loader: @escaping Loader, autosavePath: String?, defaultAdminListen: String = AdminConfig.defaultListen,
                adminRoutes: [AdminRoute] = [], adapters: [String: Adapter] = [:], onStop: @escaping @Sendable () -> Void) {
        self.adminRoutes = adminRoutes
        self.adapters = adapters
        self.instance = instance
        self.loader = loader
        self.autosavePath = autosavePath
        self.defaultAdminListen = defaultAdminListen
        self.onStop = onStop
    }

    /// The admin endpoint's bound port (tests listen on port 0); nil when disabled.
    public var adminPort: Int? { endpoint?.port }

    /// Loads a whole config (`POST /load`, the first config, a signal). Unless `force`, a config
    /// equal to the running one (by content, not spacing or key order) changes nothing.
    public func load(_ json: [UInt8], force: Bool) async throws(AdminError) {
        let value: JSONValue
        do { value = try JSONParser.parse(json) } catch { throw AdminError(400, "decoding request body: \(error)") }
        try await apply(ConfigDocument(value), force: force)
    }

    /// `method` at `path` (`/config/...`), as Caddy's API: see `ConfigDocument`. `ifMatch` is
    /// the client's `If-Match` (`"<path> <hash>"`): a stale one changes nothing (412).
    public func change(_ method: ConfigDocument.Method, at path: String, body: JSONValue?, ifMatch: String?,
                       force: Bool) async throws(AdminError) {
        if let ifMatch {
            guard ifMatch.count >= 2, ifMatch.hasPrefix("\""), ifMatch.hasSuffix("\"") else {
                throw AdminError(400, "malformed If-Match header; expect quoted string")
            }
            let parts = ifMatch.dropFirst().dropLast().split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw AdminError(400, "malformed If-Match header; path and hash must be separated by a space") }
            guard try read(String(parts[0])).hash == parts[1] else {
                throw AdminError(412, "If-Match header did not match current config hash")
            }
        }
        try await apply(try document.applying(method, at: path, body: body), force: force)
    }

    /// The JSON at `path` as the API answers it, and its hash for the ETag.
    public func read(_ path: String) throws(AdminError) -> (json: String, hash: String) {
        let json = GoJSON.encode(try document.read(path))
        return (json, ConfigDocument.hash(json))
    }

    /// The config being served (the admin API's `/pki` reads its CAs).
    public var runningConfig: QuantumConfig? { get async { await instance.app?.loaded.config } }

    /// The object paths of `@id`s (`/id/<id>/...` resolves through them).
    public func path(ofID id: String) -> String? { document.ids[id] }

    /// Stops every server and the admin endpoint.
    public func stop() async {
        await instance.stop()
        await endpoint?.close(announcingTo: logs)
        endpoint = nil
    }

    /// Answers `POST /stop` first, then stops (the process exits once the CLI's run returns).
    nonisolated func requestStop() { onStop() }

    // MARK: - Changing the config

    /// Serves the first config, already loaded from `json` (the CLI's file, the built-in default
    /// or the autosave), with the admin endpoint it asks for. Errors are the load's own.
    public func start(_ loaded: LoadedConfig, json: [UInt8]) async throws {
        let value: JSONValue
        do { value = try JSONParser.parse(json) } catch { loaded.context.cleanup(); throw error }
        try await run(loaded, as: ConfigDocument(value))
    }

    private func apply(_ next: ConfigDocument, force: Bool) async throws(AdminError) {
        if loadedOnce && !force && next.canonical == document.canonical { return }
        let loaded: LoadedConfig
        do {
            loaded = try loader(Array(next.canonical.utf8))
            try await run(loaded, as: next)
        } catch {
            AdminMetrics.shared.loaded(succeeded: false)
            throw AdminError(400, "loading config: \(error)")
        }
    }

    /// Binds the admin endpoint `loaded` asks for, then serves `loaded`; on failure nothing changed.
    private func run(_ loaded: LoadedConfig, as next: ConfigDocument) async throws {
        let admin = loaded.config.admin
        let previousEndpoint = endpoint
        let nextEndpoint: AdminEndpoint?
        do {
            nextEndpoint = try await AdminEndpoint.matching(admin, defaultListen: defaultAdminListen, current: previousEndpoint,
                                                            group: instance.group, controller: self)
        } catch {
            loaded.context.cleanup()
            throw error
        }
        let app: App
        do {
            app = try await instance.reload(loaded)
        } catch {
            if let nextEndpoint, nextEndpoint !== previousEndpoint { await nextEndpoint.close() }
            throw error
        }
        let initial = !loadedOnce
        document = next
        loadedOnce = true
        AdminMetrics.shared.loaded(succeeded: true)
        logs = loaded.logs
        if let nextEndpoint {
            let rules = nextEndpoint.adopt(admin)
            if nextEndpoint !== previousEndpoint {
                ProcessLog.write(loaded.logs, .info, logger: "admin", "admin endpoint started", [
                    "address": .string(nextEndpoint.address), "enforce_origin": .bool(admin.enforceOrigin), "origins": .strings(rules.originNames)])
            }
        }
        endpoint = nextEndpoint
        for server in app.servers {
            ProcessLog.write(loaded.logs, .info, logger: "http.log", "server running", [
                "name": .string(server.name), "protocols": .strings(server.runtime.protocols.names),
                "listen": .strings(server.listeners.map { $0.address.description })])
        }
        if let previousEndpoint, previousEndpoint !== nextEndpoint {
            // The request that made this change is answered by the old endpoint: it closes after.
            let logs = loaded.logs
            Task { try? await Task.sleep(nanoseconds: 200_000_000); await previousEndpoint.close(announcingTo: logs) }
        }
        if admin.persist, let autosavePath, save(Array(next.canonical.utf8), to: autosavePath) {
            ProcessLog.write(loaded.logs, .info, "autosaved config (load with --resume flag)", ["file": .string(autosavePath)])
        }
        if initial {
            ProcessLog.write(loaded.logs, .info, "serving initial configuration")
        } else {
            ProcessLog.write(loaded.logs, .info, logger: "admin.api", "load complete")
        }
    }

    private func save(_ json: [UInt8], to path: String) -> Bool {
        do {
            if let slash = path.lastIndex(of: "/") { try FileIO.makeDirectories(String(path[..<slash])) }
            try FileIO.writeAtomically(json, to: path, mode: 0o600)
            return true
        } catch {
            ServerLog.warn("admin", "could not save the config to \(path): \(error)")
            return false
        }
    }

    /// `$XDG_CONFIG_HOME/quantum/autosave.json` (else `~/.config/quantum/autosave.json`), as Caddy's.
    public static func autosavePath(_ environment: (String) -> String? = DataDirectory.environment) -> String? {
        if let xdg = environment("XDG_CONFIG_HOME"), xdg.hasPrefix("/") { return xdg + "/quantum/autosave.json" }
        if let home = environment("HOME"), !home.isEmpty { return home + "/.config/quantum/autosave.json" }
        return nil
    }
}
