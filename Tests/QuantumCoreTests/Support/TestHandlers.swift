import Quantum
import Synchronization

/// Handler modules the end-to-end tests load from JSON like any other module.
func coreTestRegistry() -> ModuleRegistry {
    var r = StandardModules.registry
    r.register(EchoHandler.self)
    r.register(StreamHandler.self)
    r.register(SleepHandler.self)
    r.register(CountHandler.self)
    return r
}

/// Counters a test shares with the handlers it configured (keyed, so tests never collide).
final class Board: Sendable {
    static let shared = Board()
    private let values = Mutex<[String: Int]>([:])
    func add(_ key: String, _ n: Int) { values.withLock { $0[key, default: 0] += n } }
    func value(_ key: String) -> Int { values.withLock { $0[key] ?? 0 } }
}

/// `test_echo`: reads the request body chunk by chunk with `request.body.next()`.
///
/// - `stream`: answers at once with a chunked stream that writes each request chunk back as it
///   arrives (so an interactive client sees its bytes before it sends the next ones).
/// - `collect`: reads the whole body, then answers with it; `X-Chunks` counts the reads.
/// - `offloop`: like `stream`, but reads and writes from detached tasks (other threads).
struct EchoHandler: HandlerModule {
    static let moduleID = "http.handlers.test_echo"
    var mode = "stream"

    enum CodingKeys: String, CodingKey, CaseIterable { case mode }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? "stream"
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let body = request.body
        var response = Response(status: 200)
        response.headers.add("X-Known-Length", body.knownLength.map(String.init) ?? "none")
        switch mode {
        case "collect":
            var all: [UInt8] = []
            var reads = 0
            while let chunk = try await body.next() {
                reads += 1
                all += chunk
            }
            response.headers.add("X-Chunks", String(reads))
            response.body = .bytes(all)
        case "offloop":
            response.body = .stream(length: nil) { writer in
                while let chunk = try await Task.detached(operation: { try await body.next() }).value {
                    try await Task.detached(operation: { try await writer.write(chunk) }).value
                }
            }
        default:
            response.body = .stream(length: nil) { writer in
                while let chunk = try await body.next() { try await writer.write(chunk) }
            }
        }
        return response
    }
}

/// `test_stream`: streams `total` bytes in `piece`-sized writes; piece `i` is filled with the
/// byte `i % 251`. Declares the length when `declare_length` is true; writes `short_by` bytes
/// fewer than declared when set; adds each completed write to `Board` under `progress`.
struct StreamHandler: HandlerModule {
    static let moduleID = "http.handlers.test_stream"
    var total = 0
    var piece = 1
    var declareLength = false
    var shortBy = 0
    var progress: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case total, piece, declareLength = "declare_length", shortBy = "short_by", progress
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        total = try c.decode(Int.self, forKey: .total)
        piece = try c.decode(Int.self, forKey: .piece)
        declareLength = try c.decodeIfPresent(Bool.self, forKey: .declareLength) ?? false
        shortBy = try c.decodeIfPresent(Int.self, forKey: .shortBy) ?? 0
        progress = try c.decodeIfPresent(String.self, forKey: .progress)
    }

    static func expectedByte(at offset: Int, piece: Int) -> UInt8 { UInt8((offset / piece) % 251) }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let (total, piece, shortBy, progress) = (total, piece, shortBy, progress)
        return Response(status: 200, body: .stream(length: declareLength ? total : nil) { writer in
            var sent = 0
            var index = 0
            while sent < total - shortBy {
                let n = min(piece, total - shortBy - sent)
                try await writer.write([UInt8](repeating: UInt8(index % 251), count: n))
                sent += n
                index += 1
                if let progress { Board.shared.add(progress, n) }
            }
        })
    }
}

/// `test_sleep`: waits `millis`, then answers `body`; counts starts and finishes on `Board`.
struct SleepHandler: HandlerModule {
    static let moduleID = "http.handlers.test_sleep"
    var millis = 0
    var body = ""
    var key: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case millis, body, key }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        millis = try c.decode(Int.self, forKey: .millis)
        body = try c.decodeIfPresent(String.self, forKey: .body) ?? "slept"
        key = try c.decodeIfPresent(String.self, forKey: .key)
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        if let key { Board.shared.add(key + ".started", 1) }
        try await Task.sleep(nanoseconds: UInt64(millis) * 1_000_000)
        if let key { Board.shared.add(key + ".finished", 1) }
        return .text(body)
    }
}

/// `test_count`: answers `A` and counts the answers on `Board` under `key`. Synchronous, so it
/// is served on the read path like `static_response`.
struct CountHandler: HandlerModule, SynchronousHandler {
    static let moduleID = "http.handlers.test_count"
    var key = ""

    enum CodingKeys: String, CodingKey, CaseIterable { case key }

    init(from decoder: any Decoder) throws {
        key = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .key)
    }

    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        Board.shared.add(key, 1)
        return .response(Response(status: 200, body: .bytes([65])))
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        Board.shared.add(key, 1)
        return Response(status: 200, body: .bytes([65]))
    }
}
