import QuantumCore
import Synchronization

/// Picks an upstream for a request among those currently available — Caddy's
/// `load_balancing.selection_policy` (`{"policy": "round_robin"}`, ...), default `random`.
public struct SelectionPolicy: Sendable, Decodable {
    /// What a selection may add to the response (the `cookie` policy's sticky cookie).
    public struct Choice: Sendable {
        public var upstream: Upstream
        public var setCookie: String?
    }

    public enum Kind: Sendable {
        case random
        case randomChoose(Int)
        case leastConn
        case roundRobin
        case weightedRoundRobin([Int])
        case first
        case ipHash
        case clientIPHash
        case uriHash
        case query(key: String)
        case header(field: String)
        case cookie(name: String, secret: String?, maxAge: Int64?)
    }

    public let kind: Kind
    /// For the key-based policies: used when the request carries no key (default `random`).
    let fallback: Fallback?
    private let counter = Counter()

    final class Fallback: Sendable {
        let policy: SelectionPolicy
        init(_ policy: SelectionPolicy) { self.policy = policy }
    }

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func next() -> Int { value.add(1, ordering: .relaxed).oldValue }
    }

    public static let names = ["client_ip_hash", "cookie", "first", "header", "ip_hash", "least_conn", "query", "random",
                               "random_choose", "round_robin", "uri_hash", "weighted_round_robin"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policy, choose, weights, key, field, name, secret, maxAge = "max_age", fallback
    }

    public init(_ kind: Kind, fallback: SelectionPolicy? = nil) {
        self.kind = kind
        self.fallback = fallback.map(Fallback.init)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decodeIfPresent(String.self, forKey: .policy) ?? "random"
        let allowed: Set<CodingKeys>
        switch name {
        case "random", "least_conn", "round_robin", "first", "ip_hash", "client_ip_hash", "uri_hash": allowed = []
        case "random_choose": allowed = [.choose]
        case "weighted_round_robin": allowed = [.weights]
        case "query": allowed = [.key, .fallback]
        case "header": allowed = [.field, .fallback]
        case "cookie": allowed = [.name, .secret, .maxAge, .fallback]
        default:
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.policy],
                              "unknown selection policy \"\(name)\"; known: \(Self.names.joined(separator: ", "))")
        }
        for key in c.allKeys where key != .policy && !allowed.contains(key) {
            throw ConfigError(codingPath: decoder.codingPath + [key], "field \"\(key.stringValue)\" does not apply to policy \"\(name)\"")
        }
        switch name {
        case "random": kind = .random
        case "random_choose":
            let n = try c.decodeIfPresent(Int.self, forKey: .choose) ?? 2
            guard n >= 2 else { throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.choose], "choose must be at least 2") }
            kind = .randomChoose(n)
        case "least_conn": kind = .leastConn
        case "round_robin": kind = .roundRobin
        case "weighted_round_robin":
            let weights = try c.decodeIfPresent([Int].self, forKey: .weights) ?? []
            guard weights.allSatisfy({ $0 >= 0 }) else {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.weights], "weights must not be negative")
            }
            kind = .weightedRoundRobin(weights)
        case "first": kind = .first
        case "ip_hash": kind = .ipHash
        case "client_ip_hash": kind = .clientIPHash
        case "uri_hash": kind = .uriHash
        case "query":
            guard let key = try c.decodeIfPresent(String.self, forKey: .key), !key.isEmpty else {
                throw ConfigError(codingPath: decoder.codingPath, "policy \"query\" needs a key")
            }
            kind = .query(key: key)
        case "header":
            guard let field = try c.decodeIfPresent(String.self, forKey: .field), !field.isEmpty else {
                throw ConfigError(codingPath: decoder.codingPath, "policy \"header\" needs a field")
            }
            kind = .header(field: field)
        default:
            kind = .cookie(name: try c.decodeIfPresent(String.self, forKey: .name) ?? "lb",
                           secret: try c.decodeIfPresent(String.self, forKey: .secret),
                           maxAge: try c.decodeIfPresent(CaddyDuration.self, forKey: .maxAge)?.nanoseconds)
        }
        fallback = try c.decodeIfPresent(SelectionPolicy.self, forKey: .fallback).map(Fallback.init)
    }

    /// The upstream for `request` among `upstreams`, considering only those `isAvailable` lets through.
    public func select(_ upstreams: [Upstream], _ request: Request, _ context: Context,
                       isAvailable: (Upstream) -> Bool) -> Choice? {
        func pick(_ u: Upstream?) -> Choice? { u.map { Choice(upstream: $0) } }
        func viaFallback() -> Choice? {
            (fallback?.policy ?? SelectionPolicy(.random)).select(upstreams, request, context, isAvailable: isAvailable)
        }
        var rng = FastRandom()
        switch kind {
        case .random:
            // Reservoir sampling: uniform among the available ones without building a list.
            var chosen: Upstream?
            var seen = 0
            for u in upstreams where isAvailable(u) {
                seen += 1
                if seen == 1 || Int.random(in: 0..<seen, using: &rng) == 0 { chosen = u }
            }
            return pick(chosen)
        case .randomChoose(let n):
            let available = upstreams.filter(isAvailable)
            let sample = available.count <= n ? available : Array(available.shuffled(using: &rng).prefix(n))
            return pick(sample.min { $0.activeRequests < $1.activeRequests })
        case .leastConn:
            // Fewest requests in flight; ties broken at random (reservoir sampling).
            var best: Upstream?
            var bestCount = Int.max
            var ties = 0
            for u in upstreams where isAvailable(u) {
                let n = u.activeRequests
                if n < bestCount { best = u; bestCount = n; ties = 1 }
                else if n == bestCount {
                    ties += 1
                    if Int.random(in: 0..<ties, using: &rng) == 0 { best = u }
                }
            }
            return pick(best)
        case .roundRobin:
            guard !upstreams.isEmpty else { return nil }
            for _ in 0..<upstreams.count {
                let u = upstreams[counter.next() % upstreams.count]
                if isAvailable(u) { return pick(u) }
            }
            return nil
        case .weightedRoundRobin(let weights):
            // Each available upstream gets its weight's share of a cycle of sum(weights) picks.
            var total = 0
            for (i, u) in upstreams.enumerated() where i < weights.count && weights[i] > 0 && isAvailable(u) { total += weights[i] }
            guard total > 0 else { return nil }
            var slot = counter.next() % total
            for (i, u) in upstreams.enumerated() where i < weights.count && weights[i] > 0 && isAvailable(u) {
                if slot < weights[i] { return pick(u) }
                slot -= weights[i]
            }
            return nil
        case .first:
            return pick(upstreams.first(where: isAvailable))
        case .ipHash:
            return pick(Self.rendezvous(request.connection.remoteHost, upstreams, isAvailable))
        case .clientIPHash:
            let ip = context.vars["client_ip"] ?? request.connection.remoteHost
            return pick(Self.rendezvous(ip, upstreams, isAvailable))
        case .uriHash:
            return pick(Self.rendezvous(request.uri, upstreams, isAvailable))
        case .query(let key):
            let value = request.queryValues(key).first ?? ""
            return value.isEmpty ? viaFallback() : pick(Self.rendezvous(value, upstreams, isAvailable))
        case .header(let field):
            let value = field.equalsIgnoringASCIICase("host") ? request.host : (request.headers[field] ?? "")
            return value.isEmpty ? viaFallback() : pick(Self.rendezvous(value, upstreams, isAvailable))
        case .cookie(let name, let secret, let maxAge):
            if let value = Cookies.value(name, in: request.headers),
               let sticky = upstreams.first(where: { Self.cookieValue($0.dial, secret: secret) == value }), isAvailable(sticky) {
                return pick(sticky)
            }
            guard var choice = viaFallback() else { return nil }
            var cookie = "\(name)=\(Self.cookieValue(choice.upstream.dial, secret: secret)); Path=/"
            if let maxAge, maxAge > 0 { cookie += "; Max-Age=\(maxAge / 1_000_000_000)" }
            if request.connection.isTLS { cookie += "; Secure; SameSite=None" }
            choice.setCookie = cookie
            return choice
        }
    }

    /// Highest-random-weight hashing: removing an upstream only remaps the keys it had.
    static func rendezvous(_ key: String, _ upstreams: [Upstream], _ isAvailable: (Upstream) -> Bool) -> Upstream? {
        var best: Upstream?
        var bestScore: UInt64 = 0
        for u in upstreams where isAvailable(u) {
            let score = fnv1a(u.dial, key)
            if best == nil || score > bestScore { best = u; bestScore = score }
        }
        return best
    }

    private static func fnv1a(_ a: String, _ b: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in a.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h = (h ^ 0xff) &* 0x100_0000_01b3
        for byte in b.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        // Final avalanche so nearby keys spread (splitmix64).
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// The cookie value naming an upstream: HMAC-SHA256 of its address under `secret` (hex),
    /// or SHA-256 without one — Caddy's `lb` cookie.
    static func cookieValue(_ dial: String, secret: String?) -> String {
        let bytes = Array(dial.utf8)
        return Digest.hex(secret.map { Digest.hmacSHA256(key: Array($0.utf8), bytes) } ?? Digest.sha256(bytes))
    }
}
