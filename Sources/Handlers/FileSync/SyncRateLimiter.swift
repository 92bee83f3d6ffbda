import QuantumCore
import Synchronization

/// `rate_limit`: what one client address may ask of a synced folder. `messages_per_second`
/// (with `burst`, default twice the rate) counts API requests, WebSocket handshakes and
/// WebSocket messages; `upload_bytes_per_second` (with a one-second burst) paces uploads.
public struct SyncRateLimit: Decodable, Sendable {
    public var messagesPerSecond: Double?
    public var burst: Int?
    public var uploadBytesPerSecond: ByteSize?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case messagesPerSecond = "messages_per_second", burst, uploadBytesPerSecond = "upload_bytes_per_second"
    }

    public init(messagesPerSecond: Double? = nil, burst: Int? = nil, uploadBytesPerSecond: Int? = nil) {
        self.messagesPerSecond = messagesPerSecond
        self.burst = burst
        self.uploadBytesPerSecond = uploadBytesPerSecond.map { ByteSize(bytes: $0) }
    }

    func validate() throws {
        if let m = messagesPerSecond, !(m > 0) { throw ConfigError(path: "rate_limit.messages_per_second", "must be more than 0") }
        if let b = burst, b < 1 { throw ConfigError(path: "rate_limit.burst", "must be at least 1") }
        if burst != nil && messagesPerSecond == nil { throw ConfigError(path: "rate_limit.burst", "burst needs messages_per_second") }
        if let u = uploadBytesPerSecond, u.bytes < 1 { throw ConfigError(path: "rate_limit.upload_bytes_per_second", "must be at least 1 byte") }
    }
}

/// Token buckets per client address for `SyncRateLimit`. Messages over the rate are refused (the
/// caller answers 429 with `Retry-After`, or closes the WebSocket with 1008); upload bytes
/// beyond the rate make the upload wait (its reads pause), and a new upload waits with 429
/// while the address is still paying for earlier ones.
final class SyncRateLimiter: Sendable {
    private struct Buckets {
        var messages: Double
        var bytes: Double
        var updated: UInt64
    }

    private let messageRate: Double?
    private let messageBurst: Double
    private let byteRate: Double?
    private let buckets = Mutex<[String: Buckets]>([:])
    private let now: @Sendable () -> UInt64
    /// Addresses tracked at once; past it, the idle ones (whose buckets are full) are dropped.
    static let maxAddresses = 65_536

    init(_ limit: SyncRateLimit, now: @escaping @Sendable () -> UInt64 = SystemClock.monotonicNanos) {
        messageRate = limit.messagesPerSecond
        messageBurst = limit.burst.map(Double.init) ?? max(1, ((limit.messagesPerSecond ?? 1) * 2).rounded(.up))
        byteRate = limit.uploadBytesPerSecond.map { Double($0.bytes) }
        self.now = now
    }

    /// Takes one message for `address`; nil when admitted, else how long until one would be.
    func admitMessage(from address: String) -> Duration? {
        guard let rate = messageRate else { return nil }
        return update(address) { b in
            guard b.messages < 1 else { b.messages -= 1; return nil }
            return Self.duration(seconds: (1 - b.messages) / rate)
        }
    }

    /// Whether `address` may start an upload: nil when it may, else how long until it may.
    func admitUpload(from address: String) -> Duration? {
        guard let rate = byteRate else { return nil }
        return update(address) { b in b.bytes > 0 ? nil : Self.duration(seconds: (1 - b.bytes) / rate) }
    }

    /// Counts `count` uploaded bytes; returns how long the upload should pause to keep the rate (nil: none).
    func consumeUpload(_ count: Int, from address: String) -> Duration? {
        guard let rate = byteRate else { return nil }
        return update(address) { b in
            b.bytes -= Double(count)
            return b.bytes >= 0 ? nil : Self.duration(seconds: -b.bytes / rate)
        }
    }

    /// Whole nanoseconds, at most a day (tiny rates must not overflow the conversion).
    private static func duration(seconds: Double) -> Duration {
        .nanoseconds(Int64(min(max(seconds, 0), 86_400) * 1e9))
    }

    private func update(_ address: String, _ body: (inout Buckets) -> Duration?) -> Duration? {
        let t = now()
        return buckets.withLock { all in
            var b = all[address] ?? Buckets(messages: messageBurst, bytes: byteRate ?? 0, updated: t)
            let elapsed = Double(t &- b.updated) / 1e9
            if let rate = messageRate { b.messages = min(messageBurst, b.messages + elapsed * rate) }
            if let rate = byteRate { b.bytes = min(rate, b.bytes + elapsed * rate) }
            b.updated = t
            let result = body(&b)
            if all[address] == nil && all.count >= Self.maxAddresses { forgetIdle(&all, at: t) }
            all[address] = b
            return result
        }
    }

    /// Drops addresses whose buckets would be full by now (they lose nothing); if every one is
    /// busy, half of them.
    private func forgetIdle(_ all: inout [String: Buckets], at t: UInt64) {
        let refill = max(messageRate.map { messageBurst / $0 } ?? 0, byteRate != nil ? 1 : 0)
        all = all.filter { Double(t &- $0.value.updated) / 1e9 < refill }
        if all.count >= Self.maxAddresses { all = Dictionary(uniqueKeysWithValues: all.prefix(Self.maxAddresses / 2).map { ($0.key, $0.value) }) }
    }

    /// The 429 answer: `Retry-After` in whole seconds, at least 1.
    static func tooManyRequests(retryAfter wait: Duration, _ what: String) -> Response {
        var response = Response.text("too many \(what) from this address; retry later\n", status: 429)
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        response.headers.set("Retry-After", String(seconds))
        return response
    }
}
