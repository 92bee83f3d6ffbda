import Glibc
import Synchronization

/// An HTTP/1.1 client running on Quantum's event loops, with a keep-alive pool per loop and
/// server address. The reverse proxy, health checks, ACME and the sync client share it.
///
/// ```swift
/// let client = HTTPClient()
/// let response = try await client.execute(ClientRequest(target: "/", headers: ["Host": "example"]),
///                                         host: "127.0.0.1", port: 8080)
/// let bytes = try await response.body.collect(upTo: 1 << 20)
/// ```
package final class HTTPClient: Sendable {
    /// Timeouts (nanoseconds) and pool limits; Caddy's `http` transport fields map onto these.
    public struct Configuration: Sendable, Hashable {
        public var dialTimeout: UInt64? = 3_000_000_000
        public var responseHeaderTimeout: UInt64?
        public var readTimeout: UInt64?
        public var writeTimeout: UInt64?
        public var keepAlive = true
        /// Idle connections kept per server address on each event loop.
        public var maxIdlePerHost = 32
        public var idleTimeout: UInt64 = 120_000_000_000
        public var maxResponseHeaderBytes = 1 << 20
        /// TLS to the servers (https); nil for plain HTTP.
        public var tls: TLSClientConfiguration?
        public init() {}
    }

    public let configuration: Configuration
    private let loops = Mutex<[EventLoop]>([])
    /// Unique per client, unlike its address: tells its pools from an earlier client's.
    private let id = HTTPClient.nextID.add(1, ordering: .relaxed).newValue
    private static let nextID = Atomic<Int>(0)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// One client per configuration for the whole process, so pools outlive config reloads.
    public static func shared(_ configuration: Configuration) -> HTTPClient {
        sharedClients.withLock { clients in
            if let c = clients[configuration] { return c }
            let c = HTTPClient(configuration: configuration)
            clients[configuration] = c
            return c
        }
    }

    private static let sharedClients = Mutex<[Configuration: HTTPClient]>([:])

    /// A loop for callers that bring none (tools, tests, health checks).
    public static var defaultLoop: EventLoop? { WebSocketClient.sharedLoop }

    /// Sends `request` to `host:port` and returns once the response head arrived.
    ///
    /// A pooled connection the server had already closed is retried once on a newly dialed
    /// connection when the request has no body. Errors are `HTTPClientError`s.
    /// With `departure` (an HTTP/1 request's, from its `Context`), the exchange is abandoned
    /// when that client leaves; a cancelled task abandons it too.
    public nonisolated(nonsending) func execute(_ request: ClientRequest, host: String, port: Int,
                                                loop: EventLoop? = nil, departure: ClientDeparture? = nil) async throws -> ClientResponse {
        guard let loop = loop ?? Self.defaultLoop else { throw HTTPClientError.connectFailed("no event loop") }
        if !loop.inEventLoop {
            return try await Self.onLoop(loop) { try await self.executeOnLoop(request, host: host, port: port, loop: loop, departure: nil) }
        }
        return try await executeOnLoop(request, host: host, port: port, loop: loop, departure: departure)
    }

    @inline(__always)
    private nonisolated(nonsending) func executeOnLoop(_ request: ClientRequest, host: String, port: Int,
                                                       loop: EventLoop, departure: ClientDeparture?) async throws -> ClientResponse {
        let pool = pool(on: loop)
        var attempt = 0
        while true {
            attempt += 1
            let connection: HTTPClientConnection
            // The retry after a stale connection dials: the next pooled one may be just as stale.
            if attempt == 1, let idle = pool.checkOut(host: host, port: port) {
                connection = idle
            } else {
                let fd = try Sockets.connect(host: host, port: port)
                connection = HTTPClientConnection(fd: fd, loop: loop, key: Self.poolKey(host: host, port: port),
                                                  configuration: configuration, pool: pool, wire: try wire(host: host, fd: fd))
                try await connection.connect(departure: departure)
            }
            do {
                return try await exchange(request, on: connection, departure: departure)
            } catch HTTPClientError.staleConnection where request.body == nil && attempt == 1 {
                continue
            }
        }
    }

    /// Plain, or a TLS client session when the configuration asks for https.
    private func wire(host: String, fd: Int32) throws(HTTPClientError) -> SocketTransport.Wire {
        guard let tls = configuration.tls else { return .plain }
        do {
            guard let session = TLSSession(client: try TLSClientContext.shared(tls), host: host, fd: fd) else {
                throw TLSClientError("cannot create a session")
            }
            return .tls(session)
        } catch {
            Glibc.close(fd)
            throw .connectFailed("\(error)")
        }
    }

    /// Sends a bodiless request on an idle pooled connection to `host:port` and calls
    /// `completion` on `loop` once the response head arrived (with the whole body when it came
    /// in the same read: `ClientResponse.completeBody`), or the exchange failed. Returns nil,
    /// calling nothing, when no idle connection is at hand: dialing takes the async `execute`.
    /// The exchange it returns can be abandoned (its client went away). Call on `loop`.
    ///
    /// Nothing suspends and nothing is built twice: `writeHead` appends the request line, the
    /// fields and the empty line straight into the connection's output (asking for no
    /// `Connection: close`), so a reverse proxy forwards a request as bytes, without a task.
    /// With `fieldFilter`, the response's fields come as a `FieldBlock` (less those the filter
    /// drops), not strings. `isHeadRequest` tells a response without a body is coming.
    public func startOnIdleConnection(host: String, port: Int, loop: EventLoop, isHeadRequest: Bool = false,
                                      fieldFilter: FieldBlock.Filter? = nil, writeHead: (inout [UInt8]) -> Void,
                                      completion: @escaping (consuming Result<ClientResponse, HTTPClientError>) -> Void)
        -> StartedExchange? {
        guard configuration.keepAlive, loop.inEventLoop, let connection = pool(on: loop).checkOut(host: host, port: port) else {
            return nil
        }
        connection.begin(bodiless: isHeadRequest, keepAlive: true, fieldFilter: fieldFilter, writeHead: writeHead)
        connection.requestFinished()
        connection.onResponse(completion)
        return StartedExchange(connection: connection, number: connection.exchangeNumber)
    }

    /// An exchange `startOnIdleConnection` began.
    public struct StartedExchange: Sendable {
        let connection: HTTPClientConnection
        let number: Int

        /// Its client went away: the connection is closed (the completion gets `.cancelled`
        /// unless the answer already came), so an upstream that never answers holds nothing.
        public func abandon() { connection.abandon(exchange: number) }
    }

    @inline(__always)
    private nonisolated(nonsending) func exchange(_ request: ClientRequest, on connection: HTTPClientConnection,
                                                  departure: ClientDeparture?) async throws -> ClientResponse {
        let exchangeNumber = send(request, on: connection)
        let (responseHead, body) = try await connection.response(departure: departure)
        return ClientResponse(status: responseHead.status, reason: responseHead.reason, headers: responseHead.headers,
                              body: body, connection: connection, exchange: exchangeNumber)
    }

    /// Starts an exchange: writes the head (and a small complete body) into the connection's
    /// output, streams a larger body behind it. Returns the exchange's number.
    @inline(__always)
    private func send(_ request: ClientRequest, on connection: HTTPClientConnection) -> Int {
        let keepAlive = configuration.keepAlive && !request.headers.hasToken("close", in: "connection")
        let length = request.body?.knownLength
        // A small body already complete in memory goes out with the head, in one write.
        var whole: [UInt8]?
        if let body = request.body, let length, length <= 64 * 1024, let bytes = body.takeIfComplete(), bytes.count == length {
            whole = bytes
        }
        let closeAfter = !configuration.keepAlive && !request.headers.contains("connection")
        // Written straight into the connection's output buffer: no array per request.
        connection.begin(bodiless: request.method == "HEAD", keepAlive: keepAlive) { head in
            head.appendUTF8(request.method); head.append(32)
            head.appendUTF8(request.target)
            head += " HTTP/1.1\r\n".utf8
            for field in request.headers {
                if field.name.equalsIgnoringASCIICase("content-length") || field.name.equalsIgnoringASCIICase("transfer-encoding") { continue }
                head.appendUTF8(field.name); head.append(58); head.append(32); head.appendUTF8(field.value); head.append(13); head.append(10)
            }
            if request.body != nil {
                if let length { head += "Content-Length: \(length)\r\n".utf8 } else { head += "Transfer-Encoding: chunked\r\n".utf8 }
            } else if request.method == "POST" || request.method == "PUT" || request.method == "PATCH" {
                head += "Content-Length: 0\r\n".utf8
            }
            if closeAfter { head += "Connection: close\r\n".utf8 }
            head += "\r\n".utf8
            if let whole { head += whole }
        }
        let sentWhole = whole != nil
        // Taken now: once this exchange ends, the pool may hand the connection to another one.
        let exchangeNumber = connection.exchangeNumber
        if let body = request.body, !sentWhole {
            // The body streams beside the response: a server may answer (or echo) while reading.
            let loop = connection.loop
            Task(executorPreference: loop) {
                do {
                    while let chunk = try await body.next() {
                        if chunk.isEmpty { continue }  // a zero-size chunk would end a chunked body
                        if length == nil {
                            var framed = Array(String(chunk.count, radix: 16).utf8) + [13, 10]
                            framed += chunk
                            framed += [13, 10]
                            try await connection.writeBody(framed)
                        } else {
                            try await connection.writeBody(chunk)
                        }
                    }
                    if length == nil { try await connection.writeBody(Array("0\r\n\r\n".utf8)) }
                    connection.requestFinished()
                } catch {
                    connection.close()
                }
            }
        } else {
            connection.requestFinished()
        }
        return exchangeNumber
    }

    /// How connections to `host:port` are filed in a pool.
    static func poolKey(host: String, port: Int) -> String { "\(host):\(port)" }

    /// This client's pool on `loop`. Pools are keyed by the client's address, which a later
    /// client may reuse: a pool some earlier client left there is not ours.
    private func pool(on loop: EventLoop) -> ClientPool {
        let key = ObjectIdentifier(self)
        let pool = loop.local(key) { makePool(on: loop) }
        if pool.owner == id { return pool }
        _ = loop.removeLocal(key)
        pool.closeAll()
        return loop.local(key) { makePool(on: loop) }
    }

    private func makePool(on loop: EventLoop) -> ClientPool {
        loops.withLock { if !$0.contains(where: { $0 === loop }) { $0.append(loop) } }
        return ClientPool(maxIdlePerHost: configuration.maxIdlePerHost, owner: id)
    }

    /// Idle connections to `host:port` on `loop` (for tests and diagnostics).
    public func idleConnectionCount(host: String, port: Int, loop: EventLoop) async -> Int {
        // The real pool, made here if need be: a stand-in stored under our key would take its place.
        await loop.submit { self.pool(on: loop).idleCount(Self.poolKey(host: host, port: port)) }
    }

    /// Closes every idle connection; connections in use close when their exchange ends.
    public func shutdown() {
        let key = ObjectIdentifier(self), owner = id
        for loop in loops.withLock({ $0 }) {
            loop.execute {
                guard let pool = loop.removeLocal(key) as? ClientPool else { return }
                if pool.owner == owner { pool.closeAll() } else { _ = loop.local(key) { pool } }  // a later client's
            }
        }
    }

    /// A client dropped without `shutdown()` still closes its idle connections.
    deinit { shutdown() }

    /// Runs `body` as a task on `loop` and returns its result to the caller.
    static func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { c in
            Task(executorPreference: loop) {
                do { c.resume(returning: try await body()) } catch { c.resume(throwing: error) }
            }
        }
    }
}
