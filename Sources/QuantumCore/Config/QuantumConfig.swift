/// A whole Caddy v2 JSON config: `{admin, logging, storage, apps}`.
package struct QuantumConfig: Decodable, Sendable {
    /// The admin endpoint's settings (Caddy's defaults when absent).
    public var admin: AdminConfig
    /// Named logs (`logging.logs`); Caddy's default log when absent.
    public var logging: LoggingConfig
    /// Caddy's global `storage` (file system only): where the local CA and managed certificates live.
    public var storage: StorageConfig?
    public var apps: Apps

    enum CodingKeys: String, CodingKey, CaseIterable { case admin, logging, storage, apps }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        admin = try c.decodeIfPresent(AdminConfig.self, forKey: .admin) ?? AdminConfig()
        logging = try c.decodeIfPresent(LoggingConfig.self, forKey: .logging) ?? LoggingConfig()
        storage = try c.decodeIfPresent(StorageConfig.self, forKey: .storage)
        apps = try c.decodeIfPresent(Apps.self, forKey: .apps) ?? Apps()
    }
}

/// `apps`: the HTTP, TLS and PKI apps, plus `events`, accepted for compatibility until it lands.
package struct Apps: Decodable, Sendable {
    public static let known = ["events", "http", "pki", "tls"]
    public var http: HTTPAppConfig?
    public var tls: TLSAppConfig?
    public var pki: PKIAppConfig?
    /// Apps Quantum accepts but does not run yet, by name.
    public var accepted: [String: JSONValue] = [:]

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NameKey.self)
        for key in c.allKeys {
            switch key.stringValue {
            case "http": http = try c.decode(HTTPAppConfig.self, forKey: key)
            case "tls": tls = try c.decode(TLSAppConfig.self, forKey: key)
            case "pki": pki = try c.decode(PKIAppConfig.self, forKey: key)
            case "events": accepted[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
            default:
                throw ConfigError(codingPath: decoder.codingPath + [key], "unknown app \"\(key.stringValue)\"; known: \(Apps.known.joined(separator: ", "))")
            }
        }
    }
}

/// A decoded and provisioned config, ready to run.
package struct LoadedConfig: Sendable {
    public let config: QuantumConfig
    public let context: ProvisionContext
    /// Certificates and TLS servers' handshake setup.
    public let tls: TLSRuntime
    /// The config's logs, opened (`logging`).
    public let logs: Logs
}

/// Reads Caddy JSON into a provisioned config: strict decoding, module lookup, provisioning.
package enum ConfigLoader {
    /// - Parameter configFile: the file the JSON came from, if any (absolute or relative to
    ///   `workingDirectory`); modules may treat it specially (`file_server` hides it).
    public static func load(json: [UInt8], registry: ModuleRegistry, workingDirectory: String = ".",
                            configFile: String? = nil) throws -> LoadedConfig {
        let value = try JSONParser.parse(json).removingIDs()
        let absolute = configFile.map { $0.hasPrefix("/") ? $0 : workingDirectory + "/" + $0 }
        let context = ProvisionContext(registry: registry, workingDirectory: workingDirectory, configFile: absolute)
        var decoder = ConfigDecoder()
        decoder.userInfo[.provisionContext] = context
        do {
            var config = try decoder.decode(QuantumConfig.self, from: value)
            try validate(config)
            let managed = try AutomaticHTTPSPlanner.apply(to: &config)
            try validate(config)
            let logs = try Logs(config.logging)
            let tls = try TLSRuntime.build(config, managed: managed, workingDirectory: workingDirectory)
            context.onCleanup { tls.stopWatching() }
            return LoadedConfig(config: config, context: context, tls: tls, logs: logs)
        } catch {
            context.cleanup()
            throw error
        }
    }

    public static func load(json: String, registry: ModuleRegistry, workingDirectory: String = ".") throws -> LoadedConfig {
        try load(json: Array(json.utf8), registry: registry, workingDirectory: workingDirectory)
    }

    /// Checks that span servers: listen addresses parse and are not shared between servers.
    static func validate(_ config: QuantumConfig) throws {
        guard let http = config.apps.http else { return }
        var seen: [String: String] = [:]
        for name in http.servers.keys.sorted() {
            let server = http.servers[name]!
            let base = server.path
            if server.listen.isEmpty {
                throw ConfigError(codingPath: base + [NameKey("listen")], "server \"\(name)\" must listen on at least one address")
            }
            for (i, text) in server.listen.enumerated() {
                let path = base + [NameKey("listen"), IndexKey(i)]
                let address: ListenAddress
                do { address = try ListenAddress.parse(text) } catch let e as ConfigError { throw ConfigError(codingPath: path, e.message) }
                for port in address.portRange {
                    let key = "\(address.network)/\(address.host):\(port)"
                    if let other = seen[key], port != 0 {
                        throw ConfigError(codingPath: path, "\(text) is already used by server \"\(other)\"")
                    }
                    seen[key] = name
                }
            }
        }
    }
}

extension JSONValue {
    /// The value without `"@id"` members, at any depth: Caddy strips them before decoding, so they
    /// never reach a module (a matcher set, `vars`) as a name.
    func removingIDs() -> JSONValue {
        switch self {
        case .object(let members): return .object(members.filter { $0.0 != "@id" }.map { ($0.0, $0.1.removingIDs()) })
        case .array(let items): return .array(items.map { $0.removingIDs() })
        default: return self
        }
    }
}
