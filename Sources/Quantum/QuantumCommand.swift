import Glibc
import QuantumCaddyfile
import Synchronization

/// The `quantum` command line: `run`, `trust`, `validate`, `list-modules`, `version`, `help`.
public struct QuantumCommand {
    /// What `quantum version` prints: the library's version, not that of a program built on it.
    public static let version = "0.1.0"

    /// The help text, for an executable called `name`.
    public static func usage(name: String = "quantum") -> String {
        """
    Usage: \(name) <command> [options]

    Commands:
      run [--config FILE] [--adapter caddyfile] [--watch] [--resume] [--listen HOST]
                                      Serve a Caddy v2 JSON config or a Caddyfile (a file named
                                      Caddyfile, Caddyfile.* or *.caddyfile, or --adapter caddyfile).
                                      Without --config, ./Caddyfile if there is one; else, on loopback only:
                                      the files of ./public (else a welcome page) on :8080 and the
                                      synced folder ./sync-data on :8081. --listen HOST (0.0.0.0, ::,
                                      an address) opens both to the network; the sync site then
                                      needs the token kept in the data directory (printed once).
                                      --watch reloads the config when the file changes; SIGUSR1 too.
                                      --resume starts from the last config loaded (autosave.json).
                                      The admin API listens on localhost:2019 unless the config's
                                      `admin` says otherwise ($CADDY_ADMIN changes the default).
      start [--config FILE] [--adapter caddyfile] [--watch] [--resume] [--listen HOST]
                                      Like run, in the background: returns once the server serves
                                      (status 0), or when it failed to start (status 1).
      reload --config FILE [--adapter caddyfile] [--address ADDR] [--force]
                                      Load FILE into a running instance through its admin API
                                      (ADDR: the config's admin.listen, else localhost:2019).
      stop [--address ADDR] [--config FILE]
                                      Stop a running instance through its admin API.
      environ                         Print where Quantum keeps its data and config, and the
                                      environment, as `caddy environ` does.
      file-server [--root DIR] [--listen ADDR] [--browse] [--precompressed]
                                      Serve a directory (default: the working directory, on :8080).
      reverse-proxy --to HOST:PORT [--to ...] [--from ADDR] [--lb POLICY] [--change-host-header]
                    [--header-up "Name: value"] [--header-down "Name: value"]
                                      Proxy ADDR (default :8080) to the upstreams, like
                                      `caddy reverse-proxy`; POLICY is a Caddy selection policy.
      sync --server URL --local-path DIR [--initial-sync] [--realtime] [--token T] [--client-id ID] [--ca FILE]
           [--quiet | --json]
                                      Keep DIR in step with a file_sync server (URL like
                                      http://127.0.0.1:8081, with the handler's prefix if any):
                                      --initial-sync compares both sides once, --realtime then
                                      follows changes both ways until SIGINT/SIGTERM, printing a
                                      line per change (--quiet: none; --json: one JSON object per
                                      change, no progress). For an https server, --ca FILE trusts
                                      FILE's roots (default: the system's).
      hash-password [--plaintext P] [--algorithm bcrypt|scrypt] [--salt S]
                                      Print a password hash for an http_basic account (as caddy
                                      hash-password; the password is read from standard input when
                                      --plaintext is not given).
      trust [--print] [--config FILE] [--ca ID]
                                      Print the local CA's root certificate (path and PEM) and, as
                                      root, install it into the system store (Debian's
                                      /usr/local/share/ca-certificates + update-ca-certificates).
                                      --print only prints. The CA lives in $QUANTUM_DATA_DIR, else
                                      $XDG_DATA_HOME/quantum or ~/.local/share/quantum, or where the
                                      config's storage says; it is made if missing.
      untrust [--ca ID]               Remove the root that `trust` installed.
      validate --config FILE [--adapter caddyfile]
                                      Load and provision a config without serving it.
      adapt --config FILE [--adapter caddyfile] [--pretty] [--validate]
                                      Print the JSON a Caddyfile stands for (as caddy adapt);
                                      --validate also provisions it.
      fmt [--overwrite] [--diff] FILE Format a Caddyfile as caddy fmt does: print it, write it
                                      back (keeping its mode), or show the changes.
      list-modules                    Print the module IDs this build knows.
      version                         Print the version.
      help                            Print this help.
    """
    }

    /// The modules configs may use (and `list-modules` prints); add your handlers here before `run`.
    public var registry: ModuleRegistry
    /// Where messages go (stdout, stderr); replaceable for tests.
    /// Lines go out as they are written, also into a pipe (`quantum sync --json | ...`).
    public var out: @Sendable (String) -> Void = { print($0); fflush(nil) }
    /// Diagnostics and server status lines, one per call; by default written straight to stderr (fd 2).
    public var err: @Sendable (String) -> Void = { line in
        var s = line + "\n"
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// What messages and the usage call this program: the executable's own name
    /// (`CustomHandlerDemo: ...` for a server built on the library), `quantum` without one.
    public var name: String = QuantumCommand.executableName()

    /// Pass `StandardModules.registry` with your own modules registered to serve custom handlers.
    public init(registry: ModuleRegistry = StandardModules.registry) { self.registry = registry }

    static func executableName() -> String {
        let path = CommandLine.arguments.first ?? ""
        let base = path.split(separator: "/").last.map(String.init) ?? ""
        return base.isEmpty ? "quantum" : base
    }

    var usage: String { Self.usage(name: name) }

    struct UsageError: Error { let message: String }
    /// The options of `run` and `start`.
    static let runFlags = ["--config": true, "--adapter": true, "--watch": false, "--resume": false, "--listen": true]

    /// A problem with a file the command was given (exit status 1, no usage text).
    struct FileError: Error, CustomStringConvertible { let description: String }

    /// Runs a command; returns the process exit status.
    public func run(_ arguments: [String]) async -> Int32 {
        guard let command = arguments.first else { out(usage); return 0 }
        let rest = Array(arguments.dropFirst())
        do {
            switch command {
            case "run":
                return try await runServer(try parse(rest, flags: Self.runFlags.merging(["--pingback": true]) { $1 }))
            case "start":
                _ = try parse(rest, flags: Self.runFlags)  // checked here, not in the child
                return try StartCommand(name: name, out: out, err: err).start(runArguments: rest)
            case "reload":
                let opts = try parse(rest, flags: ["--config": true, "--adapter": true, "--address": true, "--force": false])
                guard let path = opts["--config"] else { throw UsageError(message: "reload needs --config FILE") }
                return try AdminCommand(name: name, out: out, err: err)
                    .reload(config: try readConfig(path, adapter: opts["--adapter"]), address: opts["--address"], force: opts["--force"] != nil)
            case "environ":
                _ = try parse(rest, flags: [:])
                for line in Self.environment() { out(line) }
                return 0
            case "stop":
                let opts = try parse(rest, flags: ["--address": true, "--config": true])
                return try AdminCommand(name: name, out: out, err: err).stop(config: try opts["--config"].map { try readConfig($0) }, address: opts["--address"])
            case "file-server":
                let opts = try parse(rest, flags: ["--root": true, "--listen": true, "--browse": false, "--precompressed": false])
                let json = DefaultConfig.fileServer(root: opts["--root"] ?? ".", listen: opts["--listen"] ?? ":8080",
                                                    browse: opts["--browse"] != nil, precompressed: opts["--precompressed"] != nil)
                return try await runServer([:], generated: json)
            case "reverse-proxy":
                let opts = try parseAll(rest, flags: ["--from": true, "--to": true, "--lb": true, "--change-host-header": false,
                                                      "--header-up": true, "--header-down": true])
                let json = try DefaultConfig.reverseProxy(
                    from: opts["--from"]?.last ?? ":8080", to: opts["--to"] ?? [], policy: opts["--lb"]?.last,
                    changeHostHeader: opts["--change-host-header"] != nil,
                    headerUp: try (opts["--header-up"] ?? []).map(Self.headerFlag), headerDown: try (opts["--header-down"] ?? []).map(Self.headerFlag))
                return try await runServer([:], generated: json)
            case "sync":
                let opts = try parse(rest, flags: ["--server": true, "--local-path": true, "--initial-sync": false, "--realtime": false,
                                                   "--token": true, "--client-id": true, "--ca": true, "--quiet": false, "--json": false])
                return try await SyncCommand(name: name, out: out, err: err).run(opts)
            case "hash-password":
                return try HashPasswordCommand(out: out).run(try parse(rest, flags: ["--plaintext": true, "--algorithm": true, "--salt": true]))
            case "trust":
                let opts = try parse(rest, flags: ["--print": false, "--config": true, "--ca": true])
                let id = opts["--ca"] ?? "local"
                let ca = try localCA(id: id, configPath: opts["--config"])
                return try TrustCommand(name: name, out: out, err: err).trust(ca: ca, printOnly: opts["--print"] != nil)
            case "untrust":
                let opts = try parse(rest, flags: ["--ca": true])
                return TrustCommand(name: name, out: out, err: err).untrust(ca: opts["--ca"] ?? "local")
            case "validate":
                let opts = try parse(rest, flags: ["--config": true, "--adapter": true])
                guard let path = opts["--config"] else { throw UsageError(message: "validate needs --config FILE") }
                let loaded = try load(path, adapter: opts["--adapter"])
                loaded.context.cleanup()
                out("Valid configuration: \(path)")
                return 0
            case "adapt":
                let opts = try parse(rest, flags: ["--config": true, "--adapter": true, "--pretty": false, "--validate": false])
                guard let path = opts["--config"] else { throw UsageError(message: "adapt needs --config FILE") }
                let validate: (([UInt8]) throws -> Void)? = opts["--validate"] == nil ? nil : { json in
                    try self.provision(json, from: path).context.cleanup()
                }
                return try AdaptCommand(out: out, err: err).adapt(path: path, adapter: opts["--adapter"], pretty: opts["--pretty"] != nil, validate: validate)
            case "fmt":
                var files: [String] = []
                var flags: [String] = []
                for arg in rest { if arg.hasPrefix("--") { flags.append(arg) } else { files.append(arg) } }
                let opts = try parse(flags, flags: ["--overwrite": false, "--diff": false])
                guard files.count == 1 else { throw UsageError(message: "fmt needs exactly one FILE") }
                return try AdaptCommand(out: out, err: err).fmt(path: files[0], overwrite: opts["--overwrite"] != nil, diff: opts["--diff"] != nil)
            case "list-modules":
                _ = try parse(rest, flags: [:])
                for id in registry.moduleIDs { out(id) }
                return 0
            case "version", "--version", "-v":
                out("\(name) \(Self.version)")
                return 0
            case "help", "--help", "-h":
                out(usage)
                return 0
            default:
                throw UsageError(message: "unknown command \"\(command)\"")
            }
        } catch let e as UsageError {
            err("\(name): \(e.message)\n\n\(usage)")
            return 2
        } catch {
            err("\(name): \(error)")
            return 1
        }
    }

    /// `--flag VALUE` and `--flag=VALUE` for flags that take a value; bare booleans otherwise.
    /// Each flag at most once.
    func parse(_ args: [String], flags: [String: Bool]) throws -> [String: String] {
        var result: [String: String] = [:]
        for (flag, values) in try parseAll(args, flags: flags) {
            guard values.count == 1 else { throw UsageError(message: "\(flag) given more than once") }
            result[flag] = values[0]
        }
        return result
    }

    /// `"Name: value"` of `--header-up` / `--header-down`.
    static func headerFlag(_ text: String) throws -> (String, String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw UsageError(message: "header \"\(text)\" should look like \"Name: value\"")
        }
        return (String(text[..<colon].trimmingOWS()), String(text[text.index(after: colon)...].trimmingOWS()))
    }

    /// Like `parse`, keeping every value of repeated flags in order.
    func parseAll(_ args: [String], flags: [String: Bool]) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        var i = 0
        while i < args.count {
            var arg = args[i]
            var inline: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                inline = String(arg[arg.index(after: eq)...])
                arg = String(arg[..<eq])
            }
            guard let takesValue = flags[arg] else { throw UsageError(message: "unknown option \"\(args[i])\"") }
            if takesValue {
                if let inline { result[arg, default: []].append(inline) } else {
                    guard i + 1 < args.count else { throw UsageError(message: "\(arg) needs a value") }
                    i += 1
                    result[arg, default: []].append(args[i])
                }
            } else {
                guard inline == nil else { throw UsageError(message: "\(arg) takes no value") }
                result[arg, default: []].append("true")
            }
            i += 1
        }
        return result
    }

    func load(_ path: String, adapter: String? = nil) throws -> LoadedConfig {
        try provision(try readConfig(path, adapter: adapter), from: path)
    }

    /// `environ`'s lines: Quantum's own folders and version, then every environment variable.
    static func environment() -> [String] {
        let home = DataDirectory.environment("HOME") ?? ""
        let autosave = ConfigController.autosavePath() ?? ""
        let configDir = autosave.isEmpty ? "" : String(autosave[..<(autosave.lastIndex(of: "/") ?? autosave.endIndex)])
        var lines = ["quantum.HomeDir=\(home)", "quantum.AppDataDir=\(DataDirectory.resolve())",
                     "quantum.AppConfigDir=\(configDir)", "quantum.ConfigAutosavePath=\(autosave)",
                     "quantum.Version=\(version)", "runtime.GOOS=linux"]
        var pointer = environ
        var variables: [String] = []
        while let entry = pointer.pointee { variables.append(String(cString: entry)); pointer += 1 }
        lines.append("")
        lines += variables.sorted()
        return lines
    }

    /// A config file as JSON: a Caddyfile (by `adapter` or by its name) is adapted.
    func readConfig(_ path: String, adapter: String? = nil) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try FileIO.readAll(path) } catch { throw FileError(description: "cannot read config \(path): \(error)") }
        do {
            return try ConfigSource.json(bytes, path: path, adapter: try ConfigSource.adapter(for: path, explicit: adapter))
        } catch let error as CaddyfileError {
            throw FileError(description: "adapting config using caddyfile: \(error)")
        }
    }

    /// Parses and provisions `json` (read from `path`, if a file), naming its source in errors.
    func provision(_ json: [UInt8], from path: String?, source: String? = nil) throws -> LoadedConfig {
        do {
            return try ConfigLoader.load(json: json, registry: registry, workingDirectory: FileIO.currentDirectory(), configFile: path)
        } catch {
            throw ConfigFileError(path: source ?? path ?? "(built-in default)", underlying: error)
        }
    }

    /// The CA `id` where a config (or the default data directory) keeps it.
    func localCA(id: String, configPath: String?) throws -> LocalCA {
        var settings = LocalCA.Settings()
        settings.id = id
        let root: String
        if let configPath {
            let loaded = try load(configPath)
            defer { loaded.context.cleanup() }
            root = DataDirectory.root(for: id, in: loaded.config, workingDirectory: FileIO.currentDirectory())
            let ca = loaded.config.apps.pki?.certificateAuthorities[id]
            if let name = ca?.name { settings.name = name }
            settings.rootCommonName = ca?.rootCommonName
            settings.intermediateCommonName = ca?.intermediateCommonName
        } else {
            root = DataDirectory.resolve()
        }
        return try LocalCA(storageRoot: root.hasPrefix("/") ? root : FileIO.currentDirectory() + "/" + root, settings: settings)
    }

    struct ConfigFileError: Error, CustomStringConvertible {
        let path: String
        let underlying: any Error
        var description: String { "\(path): \(underlying)" }
    }

    private func runServer(_ opts: [String: String], generated: String? = nil) async throws -> Int32 {
        var path = opts["--config"]
        let adapter = opts["--adapter"]
        // As Caddy: with no config named, a Caddyfile in the working directory is the config.
        if path == nil && generated == nil && opts["--resume"] == nil && opts["--listen"] == nil && FileIO.exists("Caddyfile") {
            path = "Caddyfile"
        }
        if opts["--watch"] != nil && path == nil { throw UsageError(message: "--watch needs --config FILE") }
        if opts["--listen"] != nil && path != nil {
            throw UsageError(message: "--listen rebinds the built-in default sites; a config says its own addresses in \"listen\"")
        }
        // Started by `start`: its token comes on standard input, before anything else happens.
        let pingback = opts["--pingback"].map { ($0, Pingback.readToken()) }
        // The first config: the autosave with --resume (when there is one), else the file, else the default.
        let json: [UInt8]
        var source: String?
        var announcement: [String] = []  // the default sites say where they are once they serve
        if opts["--resume"] != nil, let autosave = ConfigController.autosavePath(), FileIO.exists(autosave) {
            json = try readConfig(autosave)
            source = autosave
            if path == nil {
                ProcessLog.write(nil, .info, "resuming from last configuration", ["autosave_file": .string(autosave)])
            } else {
                ProcessLog.write(nil, .warn, "--config and --resume flags were used together; ignoring --config and resuming from last configuration",
                                 ["autosave_file": .string(autosave)])
            }
            path = nil
        } else if let path {
            json = try readConfig(path, adapter: adapter)
            let adapterName = try ConfigSource.adapter(for: path, explicit: adapter) ?? ""
            ProcessLog.write(nil, .info, opts["--config"] == nil ? "using adjacent Caddyfile" : "using provided configuration",
                             ["config_file": .string(path), "config_adapter": .string(adapterName)])
        } else if let generated {
            json = Array(generated.utf8)
        } else {
            let sites = try DefaultSites(workingDirectory: FileIO.currentDirectory(), listen: opts["--listen"])
            json = Array(sites.json().utf8)
            announcement = sites.announcement()
        }
        // Signals, config changes (with --watch) and the admin API's /stop, as one stream: 0 means "the file changed".
        // The handlers are in place before anything listens: a signal sent once the server answers is never lost.
        let (events, sink) = AsyncStream.makeStream(of: Int32.self)
        let stopping = Atomic<Bool>(false)
        let err = self.err, name = self.name
        Signals.forward { signal in
            // A second SIGINT/SIGTERM while draining (grace_period 0 waits for every request) forces the exit.
            if signal != SIGUSR1 && stopping.exchange(true, ordering: .relaxed) {
                err("\(name): forced exit")
                _exit(1)
            }
            sink.yield(signal)
        }
        let controller = try await start(try provision(json, from: path, source: source), json: json, configFile: path,
                                         onStop: { sink.yield(Self.stopRequested) })
        for line in announcement { err(line) }
        if let (address, token) = pingback { try Pingback.confirm(token, to: address) }
        if opts["--watch"] != nil, let path {
            let watcher = ConfigWatcher(path: path)
            Task { while true { await watcher.waitForChange(); sink.yield(0) } }
        }
        for await event in events {
            if event == SIGUSR1 || event == 0 {
                guard let path else { continue }
                do {
                    try await controller.load(try readConfig(path, adapter: adapter), force: true)
                } catch {
                    ProcessLog.write(await controller.logs, .error, "reloading the config failed; still serving the previous one",
                                     ["config_file": .string(path), "error": .string("\(error)")])
                }
                continue
            }
            let logs = await controller.logs
            if event == Self.stopRequested {
                await controller.stop()
                ProcessLog.write(logs, .info, logger: "admin.api", "shutdown complete", ["exit_code": .int(0)])
            } else {
                let signal = event == SIGINT ? "SIGINT" : "SIGTERM"
                ProcessLog.write(logs, .info, "shutting down apps, then terminating (send the signal again to force)", ["signal": .string(signal)])
                await controller.stop()
                ProcessLog.write(logs, .info, "shutdown complete", ["signal": .string(signal), "exit_code": .int(0)])
            }
            break
        }
        controller.instance.group.shutdown()
        return 0
    }

    /// The event the admin API's `POST /stop` sends to the run loop (signals are positive).
    private static let stopRequested: Int32 = -1

    private func start(_ loaded: LoadedConfig, json: [UInt8], configFile: String?,
                       onStop: @escaping @Sendable () -> Void) async throws -> ConfigController {
        let instance = Instance(group: try EventLoopGroup())
        let registry = self.registry
        let controller = ConfigController(
            instance: instance,
            loader: { json in
                try ConfigLoader.load(json: json, registry: registry, workingDirectory: FileIO.currentDirectory(), configFile: configFile)
            },
            autosavePath: ConfigController.autosavePath(),
            defaultAdminListen: DataDirectory.environment("CADDY_ADMIN") ?? AdminConfig.defaultListen,
            adminRoutes: registry.adminRoutes,
            adapters: ["caddyfile": { bytes in Array(try ConfigSource.adaptCaddyfile(bytes, file: "Caddyfile").utf8) }],
            onStop: onStop)
        do {
            try await controller.start(loaded, json: json)
        } catch {
            instance.group.shutdown()
            throw error
        }
        return controller
    }

}

/// Polls a config file's modification time once a second.
final class ConfigWatcher: Sendable {
    let path: String
    private let lastSeen: Mutex<Int?>

    init(path: String) {
        self.path = path
        lastSeen = Mutex(FileIO.modificationTime(path))
    }

    func waitForChange() async {
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            let now = FileIO.modificationTime(path)
            let changed = lastSeen.withLock { last -> Bool in
                if now != last { last = now; return true }
                return false
            }
            if changed { return }
        }
    }
}
