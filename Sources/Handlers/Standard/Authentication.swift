import QuantumCore
import Synchronization

/// `authentication`: lets a request through only when a provider vouches for it, as Caddy's
/// handler. The provider Caddy 2.6.2 ships is `http_basic` (see `HTTPBasicAuth`); anything
/// else is refused by name at load. A request that is not let through fails with 401 (error
/// routes run) and carries the provider's `WWW-Authenticate`; one that is sets
/// `{http.auth.user.id}` for later handlers.
public struct Authentication: HandlerModule {
    public static let moduleID = "http.handlers.authentication"

    public var providers: Providers

    /// `providers`: module name → config (`http.authentication.providers.*`).
    public struct Providers: Decodable, Sendable {
        public var httpBasic: HTTPBasicAuth?

        enum CodingKeys: String, CodingKey, CaseIterable { case httpBasic = "http_basic" }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case providers }

    public mutating func provision(_ context: ProvisionContext) throws {
        try providers.httpBasic?.prepare()
    }

    public func validate() throws {
        guard providers.httpBasic != nil else { throw ConfigError(path: "providers", "authentication needs a provider (http_basic)") }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard let basic = providers.httpBasic else { throw HTTPError(500, "authentication has no provider") }
        guard let user = try await basic.authenticate(request) else {
            var error = HTTPError(401, "not authenticated")
            error.headers.set("WWW-Authenticate", basic.challenge)
            throw error
        }
        var context = context
        context.placeholders["http.auth.user.id"] = user
        var response = try await next(request, context)
        if response.authenticatedUser == nil { response.authenticatedUser = user }
        return response
    }
}

/// `http_basic`: HTTP Basic credentials against `accounts` whose passwords are stored hashed
/// (`hash`: bcrypt, the default, or scrypt with its parameters), as Caddy 2.6.2. A password is
/// its hash as printed by `caddy hash-password`/`quantum hash-password` (`$2a$...`), or, the older
/// form, base64 of it; scrypt's `salt` is base64. `hash_cache` remembers recent answers (a bcrypt
/// check costs about a second of CPU at cost 14). An unknown user costs a check as well, so
/// timing does not tell which names exist.
public struct HTTPBasicAuth: Decodable, Sendable {
    public struct Account: Decodable, Sendable {
        public var username: String
        public var password: String
        public var salt: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case username, password, salt }
    }

    public struct Hash: Decodable, Sendable {
        public var algorithm: String
        public var n: Int?
        public var r: Int?
        public var p: Int?
        public var keyLength: Int?
        enum CodingKeys: String, CodingKey, CaseIterable { case algorithm, n = "N", r, p, keyLength = "key_length" }
    }

    public var accounts: [Account]?
    public var hash: Hash?
    public var hashCache: JSONValue?
    public var realm: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case accounts, hash, hashCache = "hash_cache", realm }

    private var hasher: PasswordHash = .bcrypt
    /// Username → (hash, salt), decoded once.
    private var stored: [String: (hash: [UInt8], salt: [UInt8])] = [:]
    /// What an unknown user is checked against.
    private var decoy: (hash: [UInt8], salt: [UInt8]) = ([], [])
    private var cache: AnswerCache?

    /// `WWW-Authenticate`'s value: `Basic realm="restricted"` unless `realm` says otherwise.
    var challenge: String {
        // Go's %q, as Caddy formats it.
        "Basic realm=\"" + (realm ?? "restricted").replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }

    mutating func prepare() throws {
        switch hash?.algorithm ?? "bcrypt" {
        case "bcrypt": hasher = .bcrypt
        case "scrypt":
            guard case .scrypt(let n, let r, let p, let length) = PasswordHash.defaultScrypt else { preconditionFailure() }
            let (N, R, P, key) = (hash?.n ?? n, hash?.r ?? r, hash?.p ?? p, hash?.keyLength ?? length)
            let memory = N.multipliedReportingOverflow(by: R).partialValue.multipliedReportingOverflow(by: 128)
            guard N > 1, N & (N - 1) == 0, R >= 1, P >= 1, P <= 1 << 16, (1...1024).contains(key),
                  !N.multipliedReportingOverflow(by: R).overflow, !memory.overflow, memory.partialValue <= 1 << 30 else {
                throw ConfigError(path: "providers.http_basic.hash", "scrypt needs N a power of two above 1, r and p at least 1, key_length 1 to 1024, and at most 1 GiB of memory (N·r·128)")
            }
            hasher = .scrypt(n: N, r: R, p: P, keyLength: key)
        case let other:
            throw ConfigError(path: "providers.http_basic.hash.algorithm", "unknown hash algorithm \"\(other)\" (bcrypt or scrypt)")
        }
        for (i, account) in (accounts ?? []).enumerated() {
            let at = "providers.http_basic.accounts[\(i)]"
            guard !account.username.isEmpty else { throw ConfigError(path: at + ".username", "an account needs a username") }
            guard stored[account.username] == nil else { throw ConfigError(path: at + ".username", "\"\(account.username)\" is listed twice") }
            guard !account.password.isEmpty else { throw ConfigError(path: at + ".password", "an account needs a password hash") }
            let hash: [UInt8]
            if account.password.hasPrefix("$") {
                hash = Array(account.password.utf8)
            } else {
                guard let decoded = Base64.decode(account.password) else {
                    throw ConfigError(path: at + ".password", "not a password hash (`quantum hash-password` makes one) nor base64 of one")
                }
                hash = decoded
            }
            var salt: [UInt8] = []
            if let text = account.salt, !text.isEmpty {
                guard let decoded = Base64.decode(text) else { throw ConfigError(path: at + ".salt", "the salt is not base64") }
                salt = decoded
            }
            stored[account.username] = (hash, salt)
        }
        // An unknown user is checked against a real account's hash (same cost, same time); the
        // answer is thrown away.
        decoy = stored.values.first ?? (Array(Self.decoyBcrypt.utf8), [])
        if hashCache != nil { cache = AnswerCache() }
    }

    /// The username when the request's credentials are right, nil when they are missing or wrong.
    func authenticate(_ request: Request) async throws -> String? {
        guard let (user, password) = Self.credentials(request.headers["authorization"]) else { return nil }
        let account = stored[user]
        let (hash, salt) = account ?? decoy
        let key = cache.map { _ in AnswerCache.key(user, password, hash) }
        if let key, let known = cache?.answer(key) { return known && account != nil ? user : nil }
        let hasher = self.hasher
        let matches = try await BlockingPool.shared.run { hasher.matches(password, hash: hash, salt: salt) }
        if let key { cache?.remember(key, matches) }
        return matches && account != nil ? user : nil
    }

    /// `Authorization: Basic base64(user:password)`, as Go's `Request.BasicAuth` reads it.
    static func credentials(_ header: String?) -> (String, String)? {
        guard let header, header.utf8.count > 6, header.prefix(6).equalsIgnoringASCIICase("basic ") else { return nil }
        guard let decoded = Base64.decode(String(header.dropFirst(6))), let colon = decoded.firstIndex(of: 58) else { return nil }
        return (String(decoding: decoded[..<colon], as: UTF8.self), String(decoding: decoded[(colon + 1)...], as: UTF8.self))
    }

    /// A bcrypt setting at cost 14 for a config without accounts (every check fails).
    static let decoyBcrypt = "$2a$14$X3ulqf/iGxnf1k6oMZ.RZeV9VtS5Cz9Yq0tnxc5dnPlYvvqYfHGgC"
}

/// Answers of recent checks (`hash_cache`), at most `limit`; when full, an arbitrary half is dropped.
final class AnswerCache: Sendable {
    private let answers = Mutex<[String: Bool]>([:])
    static let limit = 1000

    /// Keyed by a digest, so the cache holds no password.
    static func key(_ user: String, _ password: String, _ hash: [UInt8]) -> String {
        Digest.hex(Digest.sha256(Array(user.utf8) + [0] + Array(password.utf8) + [0] + hash))
    }

    func answer(_ key: String) -> Bool? { answers.withLock { $0[key] } }

    func remember(_ key: String, _ matches: Bool) {
        answers.withLock { all in
            if all.count >= Self.limit { all = Dictionary(uniqueKeysWithValues: all.prefix(Self.limit / 2).map { ($0.key, $0.value) }) }
            all[key] = matches
        }
    }
}
