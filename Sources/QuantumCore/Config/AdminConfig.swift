/// Caddy's `admin`: where the admin API listens and who may use it.
package struct AdminConfig: Decodable, Sendable, Equatable {
    /// No admin endpoint at all.
    public var disabled = false
    /// Where it listens; nil: the default (`localhost:2019`, or `CADDY_ADMIN`, as Caddy).
    public var listen: String?
    /// Refuse requests whose `Origin` is missing or not allowed (an `Origin` that is present and
    /// not allowed is refused either way: stricter than Caddy 2.6.2, which lets any page `POST /stop`).
    public var enforceOrigin = false
    /// Allowed origins (`host:port`, or with a scheme); empty: the listen address's own names.
    public var origins: [String] = []
    /// Save each config loaded through the API, for `run --resume`.
    public var persist = true

    public static let defaultListen = "localhost:2019"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case disabled, listen, enforceOrigin = "enforce_origin", origins, config, identity, remote
    }

    enum PersistenceKeys: String, CodingKey, CaseIterable { case persist, load, loadDelay = "load_delay" }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        disabled = try c.decodeIfPresent(Bool.self, forKey: .disabled) ?? false
        listen = try c.decodeIfPresent(String.self, forKey: .listen)
        if listen?.isEmpty == true { listen = nil }
        enforceOrigin = try c.decodeIfPresent(Bool.self, forKey: .enforceOrigin) ?? false
        origins = try c.decodeIfPresent([String].self, forKey: .origins) ?? []
        for key in [CodingKeys.identity, .remote] where c.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key],
                              "remote administration (identity, remote) is not supported; the admin API listens locally")
        }
        if c.contains(.config) {
            let p = try c.nestedContainer(keyedBy: PersistenceKeys.self, forKey: .config)
            persist = try p.decodeIfPresent(Bool.self, forKey: .persist) ?? true
            for key in [PersistenceKeys.load, .loadDelay] where p.contains(key) {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.config, key],
                                  "pulling the config from a config loader module is not supported")
            }
        }
        if !disabled, let listen {
            do { _ = try Self.endpoint(listen) } catch { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.listen], error.message) }
        }
    }

    /// Where an admin `listen` value says to listen.
    package enum Endpoint: Sendable, Equatable {
        /// One TCP address, with the host as written (`localhost`).
        case tcp(host: String, address: SocketAddress)
        /// A Unix socket's path (`unix//run/quantum-admin.sock`).
        case unix(path: String)
    }

    /// The endpoint an admin `listen` value names: `unix/PATH` or exactly one TCP address.
    public static func endpoint(_ listen: String) throws(ConfigError) -> Endpoint {
        if listen.hasPrefix("unix/") {
            let path = String(listen.dropFirst(5))
            guard !path.isEmpty, path.utf8.count < 108 else {
                throw ConfigError(path: "", "a unix socket needs a path of 1 to 107 bytes: \(listen)")
            }
            return .unix(path: path)
        }
        let (host, address) = try address(listen)
        return .tcp(host: host, address: address)
    }

    /// The one TCP address an admin `listen` value names.
    static func address(_ listen: String) throws(ConfigError) -> (host: String, address: SocketAddress) {
        do {
            let parsed = try ListenAddress.parse(listen)
            guard parsed.portRange.count == 1, let address = try parsed.socketAddresses().first else {
                throw ConfigError(path: "", "must be exactly one listener address; cannot listen on: \(listen)")
            }
            return (parsed.host, address)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(path: "", "\(error)")
        }
    }
}
