import QuantumCore

/// `file_sync`: a synced folder over HTTP — a REST API (see `SyncAPI`), real-time change
/// notifications over a WebSocket (see `SyncSession`), a disk watcher, and a browser page.
///
/// ```json
/// {"handler": "file_sync", "root": "./sync-data", "enable_upload": true}
/// ```
/// Under its `prefix` (default none) it answers `/api/...`, `/ws` and the page at `page`
/// (default `/`); other paths go on down the chain. Fields: `max_upload_size`, `tokens` (Bearer
/// tokens; when set every API and WebSocket request needs one, `?token=` too for browsers),
/// `allowed_origins` (browser origins besides the page's own that may open the WebSocket and
/// make changes through the API; a request with any other `Origin` gets 403), `ignore` globs,
/// `history` (operations kept for catch-up, default 1000), `heartbeat_interval` (30s),
/// `watch` (the disk watcher, default on), `rate_limit` (per client address: see `SyncRateLimit`).
public struct FileSync: HandlerModule {
    public static let moduleID = "http.handlers.file_sync"

    public var root: String
    public var enableUpload: Bool?
    public var maxUploadSize: ByteSize?
    public var tokens: [String]?
    public var allowedOrigins: [String]?
    public var ignore: [String]?
    public var history: Int?
    public var prefix: String?
    public var page: String?
    public var heartbeatInterval: CaddyDuration?
    public var watch: Bool?
    public var rateLimit: SyncRateLimit?

    private var service: SyncService?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case root, enableUpload = "enable_upload", maxUploadSize = "max_upload_size", tokens, allowedOrigins = "allowed_origins"
        case ignore, history, prefix, page, heartbeatInterval = "heartbeat_interval", watch, rateLimit = "rate_limit"
    }

    public init(root: String, enableUpload: Bool = false) {
        self.root = root
        self.enableUpload = enableUpload
    }

    public mutating func provision(_ context: ProvisionContext) throws {
        MetricsRegistry.shared.register("file_sync") { SyncRoot.metrics() }
        let absolute = root.hasPrefix("/") ? root : context.workingDirectory + "/" + root
        let heartbeat = UInt64(max(1_000_000, heartbeatInterval?.nanoseconds ?? 30_000_000_000))
        let shared: SyncRoot
        do {
            shared = try SyncRoot.acquire(path: PathCodec.clean(absolute, keepTrailingSlash: false), ignore: IgnoreRules(ignore ?? []),
                                          history: history ?? 1000, heartbeatNanos: heartbeat, watch: watch ?? true)
        } catch {
            throw ConfigError(path: "root", "cannot use \(root) as a sync root: \(error)")
        }
        context.onCleanup { shared.release() }
        service = SyncService(root: shared, uploadsEnabled: enableUpload ?? false, maxUploadSize: maxUploadSize.map(\.bytes),
                              limiter: rateLimit.map { SyncRateLimiter($0) })
    }

    public func validate() throws {
        if root.isEmpty { throw ConfigError(path: "root", "file_sync needs a root directory") }
        if let history, history < 1 { throw ConfigError(path: "history", "history must be at least 1") }
        if let i = tokens?.firstIndex(where: \.isEmpty) {
            throw ConfigError(path: "tokens[\(i)]", "a token cannot be empty (it would let requests with an empty ?token= in)")
        }
        try heartbeatInterval?.requireNonNegative("heartbeat_interval")
        try rateLimit?.validate()
        if let prefix, !prefix.isEmpty, !prefix.hasPrefix("/") || prefix.hasSuffix("/") {
            throw ConfigError(path: "prefix", "prefix must start with / and not end with one (\"/sync\")")
        }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard let service else { throw HTTPError(500, "file_sync was not provisioned") }
        let prefix = self.prefix ?? ""
        guard request.rawPath.hasPrefix(prefix) else { return try await next(request, context) }
        let rest = request.rawPath.dropFirst(prefix.count)
        let address = request.connection.remoteHost
        if rest.hasPrefix("/api/") || rest == "/ws", let wait = service.limiter?.admitMessage(from: address) {
            return SyncRateLimiter.tooManyRequests(retryAfter: wait, "requests")
        }
        if rest.hasPrefix("/api/") {
            try authorize(request)
            // A page on another site can send a form or a text/plain POST here without asking
            // (no CORS preflight): a change must come from no browser, or an allowed origin.
            if !Self.isSafe(request.method) { try checkOrigin(request) }
            if let response = try await SyncAPI(service: service).respond(rest.dropFirst(5), request) { return response }
            return try await next(request, context)
        }
        if rest == "/ws" {
            try authorize(request)
            guard WebSocketHandshake.isWebSocketRequest(request) else {
                var r = Response.text("a WebSocket endpoint\n", status: 426)
                r.headers.set("Upgrade", "websocket")
                return r
            }
            try checkOrigin(request)
            let session = SyncSession(service: service, address: address)
            return WebSocketUpgrade.claim(request) { socket in await session.run(socket) }
        }
        if rest == (page ?? "/") || (rest.isEmpty && (page ?? "/") == "/") {
            guard request.method == "GET" || request.method == "HEAD" else { throw HTTPError(405) }
            var r = Response.text(SyncPage.html, contentType: "text/html; charset=utf-8")
            r.headers.set("Cache-Control", "no-cache")
            return r
        }
        return try await next(request, context)
    }

    /// With `tokens`, a request needs `Authorization: Bearer <token>` (or `?token=`, which
    /// browsers can put on a WebSocket URL).
    private func authorize(_ request: Request) throws {
        guard let tokens, !tokens.isEmpty else { return }
        var presented = request.queryValues("token").first
        if let auth = request.headers["authorization"], auth.count > 7, auth.prefix(7).equalsIgnoringASCIICase("bearer ") {
            presented = String(auth.dropFirst(7).trimmingOWS())
        }
        guard let presented, tokens.contains(where: { ConstantTime.equal($0, presented) }) else {
            var e = HTTPError(401, "a valid Bearer token is required")
            e.placeholders["http.file_sync.auth"] = "failed"
            throw e
        }
    }

    private static func isSafe(_ method: String) -> Bool { method == "GET" || method == "HEAD" || method == "OPTIONS" }

    /// A browser's WebSocket, and any change through the API, must come from the page's own
    /// origin or one in `allowed_origins`; requests without `Origin` (not a browser) pass.
    private func checkOrigin(_ request: Request) throws {
        guard let origin = request.headers["origin"] else { return }  // not a browser
        if allowedOrigins?.contains(origin) == true || allowedOrigins?.contains("*") == true { return }
        let ownHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        guard ownHost == request.host else { throw HTTPError(403, "origin \(origin) is not allowed") }
    }
}
