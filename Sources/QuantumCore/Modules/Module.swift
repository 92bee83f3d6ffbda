/// A named, configurable piece of Quantum, selected from JSON by its Caddy module ID.
///
/// Modules decode their own fields with `Decodable` (strictly: unknown fields are errors),
/// then get `provision` (resolve dependencies, open resources) and `validate` once, at load.
public protocol Module: Sendable {
    /// Caddy's dotted module ID, e.g. `http.handlers.file_server` or `http.matchers.path`.
    static var moduleID: String { get }
    mutating func provision(_ context: ProvisionContext) throws
    func validate() throws
    /// Releases what `provision` acquired, when the config that loaded it is unloaded.
    func cleanup()
}

extension Module {
    /// Default: nothing to resolve or open. Throw a `ConfigError` to refuse the config.
    public mutating func provision(_ context: ProvisionContext) throws {}
    /// Default: every decoded value is acceptable. Runs after `provision`; throw to refuse the config.
    public func validate() throws {}
    /// Default: nothing to release.
    public func cleanup() {}

    /// The last label of the module ID: the name JSON uses (`file_server`).
    public static var moduleName: String { String(moduleID.split(separator: ".").last ?? "") }
}

/// A module that is an HTTP handler (`"handler": "NAME"`, namespace `http.handlers`).
public protocol HandlerModule: Module, Handler, Decodable {}

/// A module that is a request matcher (a key of a matcher set, namespace `http.matchers`).
public protocol MatcherModule: Module, RequestMatcher, Decodable {}

/// What modules get while being provisioned: the registry (for nested modules), shared state
/// that outlives one module, and the list of cleanups for when the config is unloaded.
/// `@unchecked Sendable`: filled by one synchronous config load, then only `cleanup()` runs, once.
public final class ProvisionContext: @unchecked Sendable {
    /// The registry the config is loading with: use it to load nested modules.
    public let registry: ModuleRegistry
    /// Directory relative paths in config resolve against (the working directory).
    public let workingDirectory: String
    /// The config file being loaded, if it came from one (`file_server` hides it, like Caddy).
    public let configFile: String?
    private var cleanups: [@Sendable () -> Void] = []
    private var shared: [String: any Sendable] = [:]

    /// The config loader makes one per load; build your own only to provision modules in tests.
    public init(registry: ModuleRegistry, workingDirectory: String = ".", configFile: String? = nil) {
        self.registry = registry
        self.workingDirectory = workingDirectory
        self.configFile = configFile
    }

    /// Registers `body` to run when this config is unloaded (for resources outside a module's own `cleanup()`).
    public func onCleanup(_ body: @escaping @Sendable () -> Void) { cleanups.append(body) }

    /// State shared by every module of this config under `key`, made once by `make`.
    public func shared<T: Sendable>(_ key: String, make: () -> T) -> T {
        if let existing = shared[key] as? T { return existing }
        let value = make()
        shared[key] = value
        return value
    }

    /// Runs cleanups in reverse order of provisioning.
    public func cleanup() {
        let list = cleanups
        cleanups.removeAll()
        for body in list.reversed() { body() }
    }
}

extension CodingUserInfoKey {
    static let provisionContext = CodingUserInfoKey(rawValue: "quantum.provisionContext")!
}

extension Decoder {
    /// The provision context of the config being loaded.
    public var provisionContext: ProvisionContext {
        get throws {
            guard let ctx = userInfo[.provisionContext] as? ProvisionContext else {
                throw error("modules can only be decoded through Quantum's config loader")
            }
            return ctx
        }
    }
}
