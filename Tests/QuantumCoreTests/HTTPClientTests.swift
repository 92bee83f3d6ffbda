@testable import QuantumCore
import Dispatch
import Glibc
import Quantum
import QuantumTestSupport
import Synchronization
import XCTest

/// The HTTP/1.1 client against real in-process Quantum servers (keep-alive, bodies both ways,
/// HEAD, big streams, concurrency) and against scripted raw-socket peers that misbehave on
/// purpose (timeouts, stale connections, garbage, early answers, upgrades).
final class HTTPClientTests: XCTestCase {
    static let routes = """
    [
      {"match": [{"path": ["/port"]}], "handle": [{"handler": "static_response", "body": "{http.request.remote.port}"}]},
      {"match": [{"path": ["/close"]}], "handle": [{"handler": "static_response", "body": "{http.request.remote.port}", "close": true}]},
      {"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "status_code": 201,
                                                    "headers": {"X-Test": ["yes"]}, "body": "hello, world"}]},
      {"match": [{"path": ["/whoami"]}], "handle": [{"handler": "static_response",
                                                     "body": "{http.request.method} {http.request.uri} {http.request.header.X-Custom}"}]},
      {"match": [{"path": ["/nocontent"]}], "handle": [{"handler": "static_response", "status_code": 204}]},
      {"match": [{"path": ["/echo"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
      {"match": [{"path": ["/duplex"]}], "handle": [{"handler": "test_echo"}]},
      {"match": [{"path": ["/big"]}], "handle": [{"handler": "test_stream", "total": 5242880, "piece": 65536}]},
      {"match": [{"path": ["/big-sized"]}], "handle": [{"handler": "test_stream", "total": 5242880, "piece": 65536, "declare_length": true}]},
      {"match": [{"path": ["/medium"]}], "handle": [{"handler": "test_stream", "total": 2097152, "piece": 32768, "declare_length": true}]}
    ]
    """

    static let localhost = "127.0.0.1"

    override func setUp() {
        super.setUp()
        // The shared loop also turns SIGPIPE off for the process.
        XCTAssertNotNil(HTTPClient.defaultLoop)
    }

    var loop: EventLoop { HTTPClient.defaultLoop! }

    func serve(serverFields: String = "", _ body: (TestServer) async throws -> Void) async throws {
        try await withServer(routes: Self.routes, serverFields: serverFields, registry: coreTestRegistry(), body)
    }

    /// Runs `body` with a fresh client and always shuts it down.
    func withClient(_ configuration: HTTPClient.Configuration = HTTPClient.Configuration(),
                    _ body: (HTTPClient) async throws -> Void) async throws {
        let client = HTTPClient(configuration: configuration)
        defer { client.shutdown() }
        try await body(client)
    }

    func request(_ method: String = "GET", _ target: String, headers: [(String, String)] = [],
                 body: RequestBody? = nil) -> ClientRequest {
        ClientRequest(method: method, target: target, headers: HTTPFields([("Host", "localhost")] + headers), body: body)
    }

    /// One exchange, its body read to the end.
    func fetch(_ client: HTTPClient, _ port: Int, _ target: String, method: String = "GET", headers: [(String, String)] = [],
               body: RequestBody? = nil, loop: EventLoop? = nil) async throws -> (response: ClientResponse, body: String) {
        let response = try await client.execute(request(method, target, headers: headers, body: body),
                                                host: Self.localhost, port: port, loop: loop)
        let bytes = try await response.body.collect(upTo: 1 << 26)
        return (response, String(decoding: bytes, as: UTF8.self))
    }

    func idle(_ client: HTTPClient, _ port: Int, loop: EventLoop? = nil) async -> Int {
        await client.idleConnectionCount(host: Self.localhost, port: port, loop: loop ?? self.loop)
    }

    /// The `HTTPClientError` `body` throws (a failure when it throws nothing or something else).
    func clientError<T>(file: StaticString = #filePath, line: UInt = #line,
                        _ body: () async throws -> T) async -> HTTPClientError? {
        do {
            _ = try await body()
            XCTFail("no error thrown", file: file, line: line)
        } catch let error as HTTPClientError {
            return error
        } catch {
            XCTFail("not an HTTPClientError: \(error)", file: file, line: line)
        }
        return nil
    }

    /// A body of `count` bytes with a recognizable pattern.
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    /// A streamed request body of unknown length (sent chunked), already complete.
    static func streamedBody(_ chunks: [[UInt8]]) -> RequestBody {
        let stream = BodyStream(loop: nil, source: nil, knownLength: nil)
        for chunk in chunks { stream.push(chunk) }
        stream.finish()
        return RequestBody(stream: stream)
    }

    static func seconds(since start: Double) -> Double { Sock.now() - start }

    // MARK: - Basics against a Quantum server

    func testGetWithBodyAndHeaders() async throws {
        try await serve { server in
            try await withClient { client in
                let (response, body) = try await fetch(client, server.port, "/hello")
                XCTAssertEqual(response.status, 201)
                XCTAssertEqual(response.reason, "Created")
                XCTAssertEqual(response.headers["x-test"], "yes")
                XCTAssertEqual(response.headers["content-length"], "12")
                XCTAssertEqual(response.body.knownLength, 12)
                XCTAssertEqual(body, "hello, world")

                let (_, echo) = try await fetch(client, server.port, "/whoami?a=b%20c", method: "DELETE", headers: [("X-Custom", "v1")])
                XCTAssertEqual(echo, "DELETE /whoami?a=b%20c v1")
            }
        }
    }

    func testPostWithKnownLengthBody() async throws {
        try await serve { server in
            try await withClient { client in
                let sent = Self.pattern(300_000)
                let response = try await client.execute(request("POST", "/echo", body: RequestBody(bytes: sent)),
                                                        host: Self.localhost, port: server.port)
                XCTAssertEqual(response.status, 200)
                XCTAssertEqual(response.headers["x-known-length"], "300000", "sent with Content-Length")
                let echoed = try await response.body.collect(upTo: 1 << 20)
                XCTAssertEqual(echoed.count, sent.count)
                XCTAssertTrue(echoed == sent, "the server saw the whole body")
                let afterPost = await idle(client, server.port)
                XCTAssertEqual(afterPost, 1)

                // An empty POST is sent with Content-Length: 0 (no body, no hang).
                let (empty, emptyBody) = try await fetch(client, server.port, "/echo", method: "POST")
                XCTAssertEqual(empty.headers["x-known-length"], "0")
                XCTAssertEqual(emptyBody, "")
            }
        }
    }

    func testPostWithStreamedUnknownLengthBodyIsSentChunked() async throws {
        try await serve { server in
            try await withClient { client in
                let chunks = (0..<48).map { i in [UInt8](repeating: UInt8(i), count: 50_000 + i) }
                let response = try await client.execute(request("PUT", "/echo", body: Self.streamedBody(chunks)),
                                                        host: Self.localhost, port: server.port)
                XCTAssertEqual(response.status, 200)
                XCTAssertEqual(response.headers["x-known-length"], "none", "sent chunked")
                let echoed = try await response.body.collect(upTo: 1 << 23)
                let sent = chunks.flatMap { $0 }
                XCTAssertEqual(echoed.count, sent.count)
                XCTAssertTrue(echoed == sent, "the server saw the whole body")
                // Both directions ended cleanly: the connection is reusable.
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
                let (again, _) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(again.status, 200)
            }
        }
    }

    func testFullDuplexStreamingUpload() async throws {
        // The server echoes each request chunk as it arrives; the client reads the echo of one
        // chunk before it produces the next, so neither side may wait for the other's end.
        try await serve { server in
            try await withClient { client in
                let loop = self.loop
                let stream = BodyStream(loop: loop, source: nil, knownLength: nil)
                loop.execute { stream.push(Array("ping-1;".utf8)) }
                let response = try await client.execute(request("POST", "/duplex", body: RequestBody(stream: stream)),
                                                        host: Self.localhost, port: server.port)
                XCTAssertEqual(response.status, 200)
                var seen: [UInt8] = []
                for i in 1...5 {
                    let want = Array((1...i).map { "ping-\($0);" }.joined().utf8)
                    while seen.count < want.count, let chunk = try await response.body.next() { seen += chunk }
                    XCTAssertEqual(String(decoding: seen, as: UTF8.self), String(decoding: want, as: UTF8.self))
                    if i < 5 { loop.execute { stream.push(Array("ping-\(i + 1);".utf8)) } }
                }
                loop.execute { stream.finish() }
                let rest = try await response.body.next()
                XCTAssertNil(rest, "the echo ends with the upload")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    // MARK: - Keep-alive

    func testKeepAliveReusesTheConnection() async throws {
        try await serve { server in
            try await withClient { client in
                let (_, first) = try await fetch(client, server.port, "/port")
                let afterFirst = await idle(client, server.port)
                XCTAssertEqual(afterFirst, 1)
                let (_, second) = try await fetch(client, server.port, "/port")
                let (_, third) = try await fetch(client, server.port, "/port")
                XCTAssertFalse(first.isEmpty)
                XCTAssertEqual(first, second, "the second request used the same upstream connection")
                XCTAssertEqual(first, third)
                let afterThird = await idle(client, server.port)
                XCTAssertEqual(afterThird, 1)
            }
        }
    }

    func testIdleCountQueriedBeforeAnyRequestDoesNotDisablePooling() async throws {
        try await serve { server in
            try await withClient { client in
                let before = await idle(client, server.port)
                XCTAssertEqual(before, 0)
                let (_, first) = try await fetch(client, server.port, "/port")
                let after = await idle(client, server.port)
                XCTAssertEqual(after, 1)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(first, second)
            }
        }
    }

    func testServerConnectionCloseIsNotReused() async throws {
        try await serve { server in
            try await withClient { client in
                let (response, first) = try await fetch(client, server.port, "/close")
                XCTAssertTrue(response.headers.hasToken("close", in: "connection"))
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 0)
                let (_, second) = try await fetch(client, server.port, "/close")
                XCTAssertNotEqual(first, second, "a new connection for the next request")
            }
        }
    }

    func testClientConnectionCloseIsNotReused() async throws {
        try await serve { server in
            try await withClient { client in
                let (_, first) = try await fetch(client, server.port, "/port", headers: [("Connection", "close")])
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 0)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertNotEqual(first, second)
            }
            var configuration = HTTPClient.Configuration()
            configuration.keepAlive = false
            try await withClient(configuration) { client in
                let (response, first) = try await fetch(client, server.port, "/port")
                XCTAssertTrue(response.headers.hasToken("close", in: "connection"), "the client asked the server to close")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 0)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertNotEqual(first, second)
            }
        }
    }

    func testHeadHasNoBodyAndKeepsTheConnectionInSync() async throws {
        try await serve { server in
            try await withClient { client in
                let (head, body) = try await fetch(client, server.port, "/hello", method: "HEAD")
                XCTAssertEqual(head.status, 201)
                XCTAssertEqual(head.headers["content-length"], "12", "a HEAD reply keeps the length")
                XCTAssertEqual(body, "")
                XCTAssertEqual(head.body.knownLength, 0)
                let afterHead = await idle(client, server.port)
                XCTAssertEqual(afterHead, 1)
                // The next exchange on the same connection is not confused by the missing body.
                let (_, first) = try await fetch(client, server.port, "/port")
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(first, second)
                let (get, text) = try await fetch(client, server.port, "/hello")
                XCTAssertEqual(get.status, 201)
                XCTAssertEqual(text, "hello, world")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    func testNoContentResponse() async throws {
        try await serve { server in
            try await withClient { client in
                let (response, body) = try await fetch(client, server.port, "/nocontent")
                XCTAssertEqual(response.status, 204)
                XCTAssertEqual(body, "")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    // MARK: - Large responses

    /// Reads a `test_stream` body, checking every byte; pauses once after `pauseAfter` bytes.
    func readPattern(_ response: ClientResponse, total: Int, piece: Int, pauseAfter: Int? = nil) async throws -> Int {
        var offset = 0
        var mismatches = 0
        var paused = false
        while let chunk = try await response.body.next() {
            for b in chunk {
                if b != StreamHandler.expectedByte(at: offset, piece: piece) { mismatches += 1 }
                offset += 1
            }
            if let pauseAfter, !paused, offset >= pauseAfter {
                paused = true
                try await Task.sleep(nanoseconds: 300_000_000)  // let the buffers fill: back-pressure
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertEqual(offset, total)
        return offset
    }

    func testLargeChunkedResponseIsReadFully() async throws {
        try await serve { server in
            try await withClient { client in
                let response = try await client.execute(request("GET", "/big"), host: Self.localhost, port: server.port)
                XCTAssertEqual(response.status, 200)
                XCTAssertNil(response.body.knownLength)
                let n = try await readPattern(response, total: 5 << 20, piece: 65536, pauseAfter: 1 << 20)
                XCTAssertEqual(n, 5 << 20)
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1, "a big body read to its end returns the connection")
            }
        }
    }

    func testLargeSizedResponseIsReadFully() async throws {
        try await serve { server in
            try await withClient { client in
                for _ in 0..<2 {
                    let response = try await client.execute(request("GET", "/big-sized"), host: Self.localhost, port: server.port)
                    XCTAssertEqual(response.body.knownLength, 5 << 20)
                    let n = try await readPattern(response, total: 5 << 20, piece: 65536)
                    XCTAssertEqual(n, 5 << 20)
                }
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    // MARK: - Abandoned bodies

    func testDiscardingAnUnreadBodyClosesTheConnection() async throws {
        try await serve { server in
            try await withClient { client in
                let (_, before) = try await fetch(client, server.port, "/port")
                let response = try await client.execute(request("GET", "/big"), host: Self.localhost, port: server.port)
                let first = try await response.body.next()
                XCTAssertNotNil(first)
                response.discard()
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 0, "a connection with an unread body never goes back to the pool")
                let (_, after) = try await fetch(client, server.port, "/port")
                XCTAssertNotEqual(before, after, "the next request needed a new connection")
            }
        }
    }

    func testDiscardAfterTheBodyEndedKeepsTheConnection() async throws {
        try await serve { server in
            try await withClient { client in
                let (response, first) = try await fetch(client, server.port, "/port")
                response.discard()
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(first, second)
            }
        }
    }

    func testLateDiscardDoesNotCloseTheNextExchangeOnTheSameConnection() async throws {
        // The first response ends and its connection goes back to the pool; the next request
        // takes it. Discarding the first response afterwards (as a `defer` or a deinit does)
        // must not touch the exchange that now runs on that connection.
        try await serve { server in
            try await withClient { client in
                let (old, _) = try await fetch(client, server.port, "/port")
                let current = try await client.execute(request("GET", "/medium"), host: Self.localhost, port: server.port)
                old.discard()
                let count = await idle(client, server.port)  // runs after the discard on the loop
                XCTAssertEqual(count, 0, "the connection is busy with the second exchange")
                let n = try await readPattern(current, total: 2 << 20, piece: 32768)
                XCTAssertEqual(n, 2 << 20)
                let after = await idle(client, server.port)
                XCTAssertEqual(after, 1)
            }
        }
    }

    // MARK: - Pool limits, concurrency, loops, shutdown

    func testConcurrentRequestsFromManyTasks() async throws {
        try await serve { server in
            try await withClient { client in
                let port = server.port
                let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for i in 0..<64 {
                        group.addTask {
                            if i % 4 == 0 {
                                let payload = Array("task \(i) ".utf8) + Self.pattern(1000 + i)
                                let r = try await client.execute(
                                    ClientRequest(method: "POST", target: "/echo", headers: HTTPFields([("Host", "x")]),
                                                  body: RequestBody(bytes: payload)),
                                    host: Self.localhost, port: port)
                                let echoed = try await r.body.collect(upTo: 1 << 20)
                                return (r.status, echoed == payload ? "echo ok" : "echo differs")
                            }
                            let r = try await client.execute(ClientRequest(target: "/port", headers: HTTPFields([("Host", "x")])),
                                                             host: Self.localhost, port: port)
                            let body = try await r.body.collect(upTo: 1 << 20)
                            return (r.status, String(decoding: body, as: UTF8.self))
                        }
                    }
                    var all: [(Int, String)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                XCTAssertEqual(results.count, 64)
                XCTAssertTrue(results.allSatisfy { $0.0 == 200 })
                XCTAssertEqual(results.filter { $0.1 == "echo ok" }.count, 16)
                XCTAssertTrue(results.filter { $0.1 != "echo ok" }.allSatisfy { Int($0.1) != nil })
                let count = await idle(client, port)
                XCTAssertGreaterThanOrEqual(count, 1)
                XCTAssertLessThanOrEqual(count, 32)
                // The pooled connections all still work.
                for _ in 0..<count + 2 {
                    let (r, _) = try await fetch(client, port, "/port")
                    XCTAssertEqual(r.status, 200)
                }
            }
        }
    }

    func testMaxIdlePerHost() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxIdlePerHost = 1
        try await serve { server in
            try await withClient(configuration) { client in
                // Two exchanges at once need two connections; only one stays idle afterwards.
                let a = try await client.execute(request("GET", "/medium"), host: Self.localhost, port: server.port)
                let b = try await client.execute(request("GET", "/medium"), host: Self.localhost, port: server.port)
                let na = try await readPattern(a, total: 2 << 20, piece: 32768)
                let nb = try await readPattern(b, total: 2 << 20, piece: 32768)
                XCTAssertEqual(na, 2 << 20)
                XCTAssertEqual(nb, 2 << 20)
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    func testExplicitLoopAndCallsFromTheLoopItself() async throws {
        let own = try EventLoop(index: 77)
        own.start()
        try await serve { server in
            try await withClient { client in
                let port = server.port
                let (_, first) = try await fetch(client, port, "/port", loop: own)
                let onOwn = await idle(client, port, loop: own)
                let onDefault = await idle(client, port)
                XCTAssertEqual(onOwn, 1)
                XCTAssertEqual(onDefault, 0, "pools are per loop")
                // A caller already on the loop runs the exchange inline.
                let second = try await Task(executorPreference: own) { () async throws -> String in
                    XCTAssertTrue(own.inEventLoop)
                    let r = try await client.execute(ClientRequest(target: "/port", headers: HTTPFields([("Host", "x")])),
                                                     host: Self.localhost, port: port, loop: own)
                    return String(decoding: try await r.body.collect(upTo: 1024), as: UTF8.self)
                }.value
                XCTAssertEqual(first, second)
                client.shutdown()
                let afterShutdown = await idle(client, port, loop: own)
                XCTAssertEqual(afterShutdown, 0)
            }
        }
        own.stopAndJoin()
    }

    func testShutdownClosesIdleConnections() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept() else { return }
            guard c.readRequest() != nil else { return }
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            s.note(c.waitForClose(seconds: 5) ? "closed by client" : "still open")
        }
        let client = HTTPClient()
        let (_, body) = try await fetch(client, server.port, "/")
        XCTAssertEqual(body, "ok")
        let before = await idle(client, server.port)
        XCTAssertEqual(before, 1)
        client.shutdown()
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["closed by client"])
        let after = await idle(client, server.port)
        XCTAssertEqual(after, 0)
    }

    func testClientStillWorksAfterShutdown() async throws {
        try await serve { server in
            try await withClient { client in
                let (_, first) = try await fetch(client, server.port, "/port")
                client.shutdown()
                let afterShutdown = await idle(client, server.port)
                XCTAssertEqual(afterShutdown, 0)
                let (response, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(response.status, 200)
                XCTAssertNotEqual(first, second, "a new connection after the shutdown")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1, "and it is pooled again")
            }
        }
    }

    func testDroppedClientClosesItsIdleConnections() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest() != nil else { return }
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            s.note(c.waitForClose(seconds: 5) ? "closed by client" : "still open")
        }
        func useAndDrop() async throws {
            let client = HTTPClient()
            let (_, body) = try await fetch(client, server.port, "/")
            XCTAssertEqual(body, "ok")
            let count = await idle(client, server.port)
            XCTAssertEqual(count, 1)
        }
        try await useAndDrop()
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["closed by client"])
    }

    func testAPoolLeftUnderTheSameKeyByAnEarlierClientIsNotUsed() async throws {
        // Pools are stored per loop under the client's address; a client dropped without
        // shutdown() could leave one there for a later client at the same address. Simulate
        // that leftover (with pooling disabled) and check that the new client replaces it.
        try await serve { server in
            try await withClient { client in
                let loop = self.loop
                let key = ObjectIdentifier(client)
                await loop.submit { _ = loop.local(key) { ClientPool(maxIdlePerHost: 0, owner: -1) } }
                let (_, first) = try await fetch(client, server.port, "/port")
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(first, second)
            }
        }
    }

    // MARK: - Stale connections

    func testServerIdleTimeoutThenNextRequestSucceeds() async throws {
        try await serve(serverFields: "\"idle_timeout\": \"1s\"") { server in
            try await withClient { client in
                let (_, first) = try await fetch(client, server.port, "/port")
                let before = await idle(client, server.port)
                XCTAssertEqual(before, 1)
                try await Task.sleep(nanoseconds: 2_500_000_000)
                let afterWait = await idle(client, server.port)
                XCTAssertEqual(afterWait, 0, "the client noticed the server's close and dropped the connection")
                let (response, second) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(response.status, 200)
                XCTAssertNotEqual(first, second)
            }
        }
    }

    func testStaleConnectionIsRetriedOnceForBodilessRequests() async throws {
        // The server takes the second request on the kept-alive connection and closes without
        // answering (its idle timeout raced the request): the client sends it again on a new one.
        let server = try ScriptedServer()
        server.run { s in
            guard let c1 = s.accept(), let r1 = c1.readRequest() else { return }
            s.note("1: \(r1.head.target)")
            c1.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
            guard let r2 = c1.readRequest() else { return }
            s.note("1: \(r2.head.target)")
            c1.close()
            guard let c2 = s.accept(), let r3 = c2.readRequest() else { return }
            s.note("2: \(r3.head.target)")
            c2.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")
            _ = c2.waitForClose(seconds: 5)
        }
        try await withClient { client in
            let (_, one) = try await fetch(client, server.port, "/a")
            XCTAssertEqual(one, "one")
            let (response, two) = try await fetch(client, server.port, "/b")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(two, "two")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["1: /a", "1: /b", "2: /b"])
    }

    func testStaleRetryUsesAFreshConnection() async throws {
        // Two pooled connections that both turn out closed (a server restart, say): the retry
        // must not take the next pooled one, which is just as stale.
        let server = try ScriptedServer()
        server.run { s in
            guard let c1 = s.accept(), c1.readRequest() != nil, let c2 = s.accept(), c2.readRequest() != nil else { return }
            let ended = DispatchGroup()
            for c in [c1, c2] {
                c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                DispatchQueue.global().async(group: ended) {
                    // The next request on this connection is taken, and the connection closed.
                    if c.readRequest(seconds: 10) != nil { s.note("stale: request dropped") }
                    c.close()
                }
            }
            if let c3 = s.accept(), c3.readRequest() != nil {
                s.note("fresh: answered")
                c3.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
                _ = c3.waitForClose(seconds: 5)
            }
            _ = ended.wait(timeout: .now() + 10)
        }
        try await withClient { client in
            let port = server.port
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for target in ["/a", "/b"] {
                    group.addTask {
                        let r = try await client.execute(ClientRequest(target: target, headers: HTTPFields([("Host", "x")])),
                                                         host: Self.localhost, port: port)
                        return String(decoding: try await r.body.collect(upTo: 100), as: UTF8.self)
                    }
                }
                var all: [String] = []
                for try await body in group { all.append(body) }
                return all
            }
            XCTAssertEqual(bodies, ["ok", "ok"])
            let pooled = await idle(client, server.port)
            XCTAssertEqual(pooled, 2)
            let (response, body) = try await fetch(client, server.port, "/c")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(body, "fresh")
            let left = await idle(client, server.port)
            XCTAssertEqual(left, 2, "the other pooled connection was left alone; the fresh one joined")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["stale: request dropped", "fresh: answered"])
    }

    func testStaleConnectionIsNotRetriedWithABody() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c1 = s.accept(), c1.readRequest() != nil else { return }
            c1.send("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none")
            guard let r2 = c1.readRequest() else { return }
            s.note("got \(r2.head.method) \(String(decoding: r2.body, as: UTF8.self))")
            c1.close()
            s.note(s.accept(seconds: 1) == nil ? "no second connection" : "second connection")
        }
        try await withClient { client in
            _ = try await fetch(client, server.port, "/a")
            let error = await clientError { try await self.fetch(client, server.port, "/b", method: "POST", body: RequestBody(bytes: Array("data".utf8))) }
            XCTAssertEqual(error, .staleConnection, "a request with a body is not replayed")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["got POST data", "no second connection"])
    }

    func testFirstExchangeClosedWithoutAnswerIsConnectionClosed() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest() != nil else { return }
            c.close()
            s.note(s.accept(seconds: 1) == nil ? "no retry" : "retried")
        }
        try await withClient { client in
            let error = await clientError { try await self.fetch(client, server.port, "/") }
            XCTAssertEqual(error, .connectionClosed, "a fresh connection is never stale")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["no retry"])
    }

    // MARK: - Failures

    func testConnectRefused() async throws {
        // A bound socket that does not listen keeps the port taken and refuses connections.
        let closedPort = try ScriptedServer(listening: false)
        try await withClient { client in
            let error = await clientError { try await self.fetch(client, closedPort.port, "/") }
            guard case .connectFailed(let why)? = error else { return XCTFail("\(String(describing: error))") }
            XCTAssertTrue(why.lowercased().contains("refused"), why)
            XCTAssertTrue(error!.isDialError)
        }
    }

    func testConnectTimeout() async throws {
        // A listener with a full accept queue drops new SYNs: the connect never completes.
        let server = try ScriptedServer(backlog: 0)
        let filler = try RawClient(port: server.port)
        var configuration = HTTPClient.Configuration()
        configuration.dialTimeout = 300_000_000
        try await withClient(configuration) { client in
            let start = Sock.now()
            let error = await clientError { try await self.fetch(client, server.port, "/") }
            XCTAssertEqual(error, .connectTimeout)
            XCTAssertTrue(error?.isDialError ?? false)
            XCTAssertLessThan(Self.seconds(since: start), 3)
        }
        withExtendedLifetime(filler) {}
    }

    func testResponseHeaderTimeout() async throws {
        // Listening but never accepting: the connect completes from the backlog, nothing answers.
        let server = try ScriptedServer()
        var configuration = HTTPClient.Configuration()
        configuration.responseHeaderTimeout = 300_000_000
        try await withClient(configuration) { client in
            let start = Sock.now()
            let error = await clientError { try await self.fetch(client, server.port, "/") }
            let elapsed = Self.seconds(since: start)
            XCTAssertEqual(error, .responseHeaderTimeout)
            XCTAssertTrue(error?.isTimeout ?? false)
            XCTAssertGreaterThanOrEqual(elapsed, 0.25)
            XCTAssertLessThan(elapsed, 3)
            let count = await idle(client, server.port)
            XCTAssertEqual(count, 0)
        }
    }

    func testReadTimeoutWhileTheBodyStalls() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest() != nil else { return }
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            s.note(c.waitForClose(seconds: 8) ? "closed by client" : "still open")
        }
        var configuration = HTTPClient.Configuration()
        configuration.readTimeout = 500_000_000
        try await withClient(configuration) { client in
            let response = try await client.execute(request("GET", "/"), host: Self.localhost, port: server.port)
            XCTAssertEqual(response.status, 200)
            let start = Sock.now()
            var got: [UInt8] = []
            let error = await clientError { while let chunk = try await response.body.next() { got += chunk } }
            XCTAssertEqual(error, .ioTimeout)
            XCTAssertEqual(String(decoding: got, as: UTF8.self), "0123456789")
            XCTAssertLessThan(Self.seconds(since: start), 4)
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["closed by client"])
    }

    func testWriteTimeoutWhenTheServerNeverReads() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept() else { return }
            // Never read: the client's upload fills the socket buffers and stalls.
            _ = s.released.wait(timeout: .now() + 15)
            c.close()
        }
        var configuration = HTTPClient.Configuration()
        configuration.writeTimeout = 500_000_000
        try await withClient(configuration) { client in
            let start = Sock.now()
            let big = RequestBody(bytes: [UInt8](repeating: 120, count: 64 << 20))
            let error = await clientError { try await self.fetch(client, server.port, "/", method: "POST", body: big) }
            XCTAssertEqual(error, .ioTimeout)
            XCTAssertLessThan(Self.seconds(since: start), 6)
        }
        server.released.signal()
        XCTAssertTrue(server.finish())
    }

    func testGarbageFromTheServerIsMalformed() async throws {
        for garbage in ["SSH-2.0-OpenSSH_9.6\r\n\r\n", "\u{0}\u{1}\u{2}\u{3}", "HTTP/1.1 200 OK\r\nBroken header\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n"] {
            let server = try ScriptedServer()
            server.run { s in
                guard let c = s.accept(), c.readRequest() != nil else { return }
                c.send(garbage)
                s.note(c.waitForClose(seconds: 5) ? "closed by client" : "still open")
            }
            try await withClient { client in
                let error = await clientError { try await self.fetch(client, server.port, "/") }
                guard case .malformedResponse? = error else { return XCTFail("\(garbage.debugDescription): \(String(describing: error))") }
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 0)
            }
            XCTAssertTrue(server.finish())
            XCTAssertEqual(server.notes, ["closed by client"], garbage.debugDescription)
        }
    }

    func testResponseHeadOverTheLimitIsMalformed() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest() != nil else { return }
            c.send("HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "b", count: 4000))\r\nContent-Length: 0\r\n\r\n")
            _ = c.waitForClose(seconds: 5)
            guard let c2 = s.accept(), c2.readRequest() != nil else { return }
            c2.send("HTTP/1.1 200 OK\r\nX-Small: \(String(repeating: "s", count: 500))\r\nContent-Length: 0\r\n\r\n")
            _ = c2.waitForClose(seconds: 5)
        }
        var configuration = HTTPClient.Configuration()
        configuration.maxResponseHeaderBytes = 1024
        try await withClient(configuration) { client in
            let error = await clientError { try await self.fetch(client, server.port, "/") }
            guard case .malformedResponse? = error else { return XCTFail("\(String(describing: error))") }
            let (response, _) = try await fetch(client, server.port, "/")
            XCTAssertEqual(response.headers["x-small"]?.count, 500)
        }
        XCTAssertTrue(server.finish())
    }

    func testSharedClientsPerConfiguration() {
        var other = HTTPClient.Configuration()
        other.maxIdlePerHost = 3
        XCTAssertTrue(HTTPClient.shared(HTTPClient.Configuration()) === HTTPClient.shared(HTTPClient.Configuration()))
        XCTAssertFalse(HTTPClient.shared(HTTPClient.Configuration()) === HTTPClient.shared(other))
        XCTAssertEqual(HTTPClient.shared(other).configuration.maxIdlePerHost, 3)
    }

    func testServerClosingMidBodyFailsTheBody() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest() != nil else { return }
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            c.close()
        }
        try await withClient { client in
            let response = try await client.execute(request("GET", "/"), host: Self.localhost, port: server.port)
            let error = await clientError { try await response.body.collect(upTo: 1000) }
            XCTAssertEqual(error, .connectionClosed)
            let count = await idle(client, server.port)
            XCTAssertEqual(count, 0)
        }
        XCTAssertTrue(server.finish())
    }

    // MARK: - Response shapes from raw peers

    func testBodyUntilCloseAndChunkedTrailersAndContinue() async throws {
        let server = try ScriptedServer()
        server.run { s in
            // 1: a 1.0-style body that runs until close.
            guard let c1 = s.accept(), c1.readRequest() != nil else { return }
            c1.send("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nno length, ")
            usleep(50_000)
            c1.send("ends at close")
            c1.close()
            // 2: 100 Continue, then a chunked body with trailers, then a second request on the same connection.
            guard let c2 = s.accept(), c2.readRequest() != nil else { return }
            c2.send("HTTP/1.1 100 Continue\r\n\r\n")
            usleep(20_000)
            c2.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n4\r\nabcd\r\n")
            usleep(20_000)
            c2.send("3\r\nefg\r\n0\r\nX-Sum: 7\r\n\r\n")
            guard c2.readRequest() != nil else { return }
            s.note("second request on the same connection")
            c2.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            _ = c2.waitForClose(seconds: 5)
        }
        try await withClient { client in
            let (r1, b1) = try await fetch(client, server.port, "/1")
            XCTAssertEqual(r1.status, 200)
            XCTAssertNil(r1.body.knownLength)
            XCTAssertEqual(b1, "no length, ends at close")
            let afterUntilClose = await idle(client, server.port)
            XCTAssertEqual(afterUntilClose, 0)

            let r2 = try await client.execute(request("GET", "/2"), host: Self.localhost, port: server.port)
            XCTAssertEqual(r2.status, 200, "the 100 Continue is skipped")
            let b2 = try await r2.body.collect(upTo: 100)
            XCTAssertEqual(String(decoding: b2, as: UTF8.self), "abcdefg")
            XCTAssertEqual(r2.body.trailers["x-sum"], "7")
            let afterChunked = await idle(client, server.port)
            XCTAssertEqual(afterChunked, 1)
            let (_, b3) = try await fetch(client, server.port, "/3")
            XCTAssertEqual(b3, "ok")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["second request on the same connection"])
    }

    func testSwitchingProtocols() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), let r = c.readRequest() else { return }
            s.note("upgrade: \(r.head.headers["upgrade"] ?? "-")")
            // The first bytes of the new protocol ride in the same segment as the head.
            c.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nwelcome;")
            let ping = c.readRaw(count: 5)
            s.note("got \(String(decoding: ping, as: UTF8.self))")
            c.send("pong;")
            c.close()
        }
        try await withClient { client in
            let response = try await client.execute(request("GET", "/ws", headers: [("Connection", "Upgrade"), ("Upgrade", "echo")]),
                                                    host: Self.localhost, port: server.port)
            XCTAssertEqual(response.status, 101)
            var got: [UInt8] = []
            while got.count < 8, let chunk = try await response.body.next() { got += chunk }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), "welcome;")
            try await response.writeUpgraded(Array("ping;".utf8))
            while let chunk = try await response.body.next() { got += chunk }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), "welcome;pong;", "raw bytes until the server closes")
            response.discard()
            let count = await idle(client, server.port)
            XCTAssertEqual(count, 0, "an upgraded connection never returns to the pool")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["upgrade: echo", "got ping;"])
    }

    func testEarlyResponseBeforeTheUploadEndsIsReadableButNotReused() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), c.readRequest(headOnly: true) != nil else { return }
            c.send("HTTP/1.1 413 Content Too Large\r\nContent-Length: 4\r\n\r\nbig!")
            s.note(c.drainUntilClosed(seconds: 5) ? "closed by client" : "still open")
        }
        try await withClient { client in
            let loop = self.loop
            let stream = BodyStream(loop: loop, source: nil, knownLength: nil)
            loop.execute { stream.push(Array("first part of an endless upload".utf8)) }
            let (response, body) = try await fetch(client, server.port, "/upload", method: "POST", body: RequestBody(stream: stream))
            XCTAssertEqual(response.status, 413)
            XCTAssertEqual(body, "big!")
            let count = await idle(client, server.port)
            XCTAssertEqual(count, 0, "the rest of the request cannot be skipped: the connection closes")
            loop.execute { stream.finish() }
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["closed by client"])
    }

    func testBytesAfterTheResponsePoisonTheConnection() async throws {
        let server = try ScriptedServer()
        server.run { s in
            // Extra bytes in the same segment as the response...
            guard let c1 = s.accept(), c1.readRequest() != nil else { return }
            c1.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
            s.note(c1.waitForClose(seconds: 5) ? "1 closed by client" : "1 still open")
            // ...and unsolicited bytes on an idle pooled connection.
            guard let c2 = s.accept(), c2.readRequest() != nil else { return }
            c2.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            _ = s.released.wait(timeout: .now() + 5)
            c2.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
            s.note(c2.waitForClose(seconds: 5) ? "2 closed by client" : "2 still open")
        }
        try await withClient { client in
            let (_, first) = try await fetch(client, server.port, "/")
            XCTAssertEqual(first, "ok")
            let afterExtra = await idle(client, server.port)
            XCTAssertEqual(afterExtra, 0)
            let (_, second) = try await fetch(client, server.port, "/")
            XCTAssertEqual(second, "ok")
            let pooled = await idle(client, server.port)
            XCTAssertEqual(pooled, 1)
            server.released.signal()
            XCTAssertTrue(server.finish())
            let afterUnsolicited = await idle(client, server.port)
            XCTAssertEqual(afterUnsolicited, 0)
        }
        XCTAssertEqual(server.notes, ["1 closed by client", "2 closed by client"])
    }

    /// Sends a head and `count` pattern bytes, then closes.
    static func sendBigBody(_ c: ScriptedServer.Peer, head: String, count: Int) {
        c.send(head)
        let bytes = pattern(count)
        var offset = 0
        while offset < count {
            let end = min(count, offset + 100_000)
            guard c.send(bytes: Array(bytes[offset..<end])) else { return }
            offset = end
        }
        c.close()
    }

    func readSlowly(_ response: ClientResponse, pause: UInt64 = 300_000_000) async throws -> [UInt8] {
        var got: [UInt8] = []
        var paused = false
        while let chunk = try await response.body.next() {
            got += chunk
            if !paused && got.count > 1 << 20 {
                paused = true
                try await Task.sleep(nanoseconds: pause)
            }
        }
        return got
    }

    func testLargeBodiesEndingAtTheServersCloseSurviveASlowReader() async throws {
        let count = 3 << 20
        let server = try ScriptedServer()
        server.run { s in
            guard let c1 = s.accept(), c1.readRequest() != nil else { return }
            Self.sendBigBody(c1, head: "HTTP/1.0 200 OK\r\n\r\n", count: count)
            guard let c2 = s.accept(), c2.readRequest() != nil else { return }
            Self.sendBigBody(c2, head: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: \(count)\r\n\r\n", count: count)
        }
        try await withClient { client in
            let untilClose = try await client.execute(request("GET", "/1"), host: Self.localhost, port: server.port)
            let a = try await readSlowly(untilClose)
            XCTAssertEqual(a.count, count)
            XCTAssertTrue(a == Self.pattern(count))
            let sized = try await client.execute(request("GET", "/2"), host: Self.localhost, port: server.port)
            let b = try await readSlowly(sized)
            XCTAssertEqual(b.count, count)
            XCTAssertTrue(b == Self.pattern(count))
            let n = await idle(client, server.port)
            XCTAssertEqual(n, 0)
        }
        XCTAssertTrue(server.finish())
    }

    func testSlowReaderIsNotAReadTimeout() async throws {
        // read_timeout is about a server that sends nothing; a reader that stops reading (so
        // back-pressure stops the socket reads) must not trip it.
        var configuration = HTTPClient.Configuration()
        configuration.readTimeout = 500_000_000
        try await serve { server in
            try await withClient(configuration) { client in
                let response = try await client.execute(request("GET", "/big-sized"), host: Self.localhost, port: server.port)
                let got = try await readSlowly(response, pause: 2_500_000_000)
                XCTAssertEqual(got.count, 5 << 20)
            }
        }
    }

    func testClientIdleTimeoutClosesPooledConnections() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.idleTimeout = 500_000_000
        try await serve { server in
            try await withClient(configuration) { client in
                let (_, first) = try await fetch(client, server.port, "/port")
                let before = await idle(client, server.port)
                XCTAssertEqual(before, 1)
                try await Task.sleep(nanoseconds: 2_200_000_000)
                let after = await idle(client, server.port)
                XCTAssertEqual(after, 0)
                let (_, second) = try await fetch(client, server.port, "/port")
                XCTAssertNotEqual(first, second)
            }
        }
    }

    func testEmptyChunksFromTheUploadStreamAreSkipped() async throws {
        // In chunked framing a zero-size chunk ends the body: an empty read must not be sent as one.
        try await serve { server in
            try await withClient { client in
                let body = Self.streamedBody([Array("abc".utf8), [], Array("def".utf8), [], []])
                let (response, echoed) = try await fetch(client, server.port, "/echo", method: "POST", body: body)
                XCTAssertEqual(response.status, 200)
                XCTAssertEqual(echoed, "abcdef")
                let (again, _) = try await fetch(client, server.port, "/port")
                XCTAssertEqual(again.status, 200)
            }
        }
    }

    func testExpectContinueUpload() async throws {
        try await serve { server in
            try await withClient { client in
                let sent = Self.pattern(100_000)
                let response = try await client.execute(request("POST", "/echo", headers: [("Expect", "100-continue")],
                                                                body: RequestBody(bytes: sent)),
                                                        host: Self.localhost, port: server.port)
                XCTAssertEqual(response.status, 200, "an interim 100 Continue, if any, is skipped")
                let echoed = try await response.body.collect(upTo: 1 << 20)
                XCTAssertTrue(echoed == sent)
                let count = await idle(client, server.port)
                XCTAssertEqual(count, 1)
            }
        }
    }

    // MARK: - What goes on the wire

    func testRequestHeadsOnTheWire() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept() else { return }
            for _ in 0..<4 {
                guard let r = c.readRequest() else { return }
                let fields = r.head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "|")
                s.note("\(r.head.method) \(r.head.target) 1.\(r.head.minorVersion) [\(fields)] body=\(String(decoding: r.body, as: UTF8.self))")
                c.send("HTTP/1.1 204 No Content\r\n\r\n")
            }
            s.note("chunked on the wire: \(Sock.contains(c.received, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"))")
            _ = c.waitForClose(seconds: 5)
        }
        try await withClient { client in
            // The caller's framing fields are dropped: the client frames the body itself.
            _ = try await fetch(client, server.port, "/a?x=1", headers: [("X-A", "1"), ("Content-Length", "99"), ("X-A", "2"),
                                                                         ("Transfer-Encoding", "chunked")])
            _ = try await fetch(client, server.port, "/b", method: "POST", body: RequestBody(bytes: Array("data".utf8)))
            _ = try await fetch(client, server.port, "/c", method: "PUT")
            _ = try await fetch(client, server.port, "/d", method: "PATCH",
                                body: Self.streamedBody([Array("hello".utf8), Array(" world".utf8)]))
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, [
            "GET /a?x=1 1.1 [Host: localhost|X-A: 1|X-A: 2] body=",
            "POST /b 1.1 [Host: localhost|Content-Length: 4] body=data",
            "PUT /c 1.1 [Host: localhost|Content-Length: 0] body=",
            "PATCH /d 1.1 [Host: localhost|Transfer-Encoding: chunked] body=hello world",
            "chunked on the wire: true",
        ])
    }

    func testKeepAliveOffSendsConnectionClose() async throws {
        let server = try ScriptedServer()
        server.run { s in
            guard let c = s.accept(), let r = c.readRequest() else { return }
            s.note("connection: \(r.head.headers["connection"] ?? "-")")
            c.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            s.note(c.waitForClose(seconds: 5) ? "closed by client" : "still open")
        }
        var configuration = HTTPClient.Configuration()
        configuration.keepAlive = false
        try await withClient(configuration) { client in
            let (_, body) = try await fetch(client, server.port, "/")
            XCTAssertEqual(body, "ok")
        }
        XCTAssertTrue(server.finish())
        XCTAssertEqual(server.notes, ["connection: close", "closed by client"])
    }
}

// MARK: - A scripted raw-socket server

/// A TCP listener on 127.0.0.1 (a port the OS picks) whose behaviour is a script run on a
/// background thread: for peers that misbehave on purpose. Every wait has a deadline.
final class ScriptedServer: @unchecked Sendable {
    let listenFD: Int32
    let port: Int
    private let done = DispatchSemaphore(value: 0)
    private let log = Mutex<[String]>([])
    /// Signalled by a test to let a script that holds a connection go on.
    let released = DispatchSemaphore(value: 0)

    init(listening: Bool = true, backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(operation: "socket", code: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        guard rc == 0 else { let e = errno; close(fd); throw SystemError(operation: "bind", code: e) }
        if listening, listen(fd, backlog) != 0 { let e = errno; close(fd); throw SystemError(operation: "listen", code: e) }
        var bound = sockaddr_in()
        var len = size
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listenFD = fd
        port = Int(UInt16(bigEndian: bound.sin_port))
    }

    deinit { close(listenFD) }

    /// Runs `script` on a background thread.
    func run(_ script: @escaping @Sendable (ScriptedServer) -> Void) {
        DispatchQueue.global().async {
            script(self)
            self.done.signal()
        }
    }

    /// Waits for the script to end.
    func finish(seconds: Double = 20) -> Bool { done.wait(timeout: .now() + seconds) == .success }

    /// Records what the script saw, for the test to compare.
    func note(_ text: String) { log.withLock { $0.append(text) } }
    var notes: [String] { log.withLock { $0 } }

    /// The next connection, or nil after `seconds`.
    func accept(seconds: Double = 5) -> Peer? {
        var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(seconds * 1000)) > 0 else { return nil }
        let fd = Glibc.accept(listenFD, nil, nil)
        return fd >= 0 ? Peer(fd: fd) : nil
    }

    /// One accepted connection (used by one script thread at a time).
    final class Peer: @unchecked Sendable {
        let fd: Int32
        private var decoder = HTTP1Decoder()
        private var isClosed = false
        /// Every byte received.
        private(set) var received: [UInt8] = []

        struct Request { var head: RequestHead; var body: [UInt8] }

        init(fd: Int32) {
            self.fd = fd
            Sock.setNoDelay(fd)
        }

        deinit { close() }

        func close() {
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(fd)
        }

        /// Reads one request (its head only when `headOnly`); nil on close, error or timeout.
        func readRequest(seconds: Double = 5, headOnly: Bool = false) -> Request? {
            let deadline = Sock.now() + seconds
            var head: RequestHead?
            var body: [UInt8] = []
            while true {
                do {
                    while let event = try decoder.next() {
                        switch event {
                        case .head(let h):
                            if headOnly { return Request(head: h, body: []) }
                            head = h
                        case .body(let b): body += b
                        case .end: if let head { return Request(head: head, body: body) }
                        case .response: return nil
                        }
                    }
                } catch { return nil }
                guard let bytes = readSome(until: deadline) else { return nil }
                decoder.append(bytes)
            }
        }

        /// Raw bytes (after an upgrade): at least `count`, or what came before the deadline.
        func readRaw(count: Int, seconds: Double = 5) -> [UInt8] {
            let deadline = Sock.now() + seconds
            var out = decoder.takeRemaining()
            while out.count < count, let bytes = readSome(until: deadline) { out += bytes }
            return out
        }

        @discardableResult
        func send(_ text: String) -> Bool { Sock.send(fd, text) }

        @discardableResult
        func send(bytes: [UInt8]) -> Bool { Sock.send(fd, bytes: bytes) }

        /// True when the client closes within `seconds` (without sending anything more).
        func waitForClose(seconds: Double) -> Bool { Sock.waitForClose(fd, seconds: seconds) == .closed }

        /// Reads and drops whatever comes until the client closes; false on timeout.
        func drainUntilClosed(seconds: Double) -> Bool {
            let deadline = Sock.now() + seconds
            while Sock.now() < deadline {
                switch Sock.waitForClose(fd, seconds: deadline - Sock.now()) {
                case .closed: return true
                case .data: continue
                case .stillOpen: return false
                }
            }
            return false
        }

        private func readSome(until deadline: Double) -> [UInt8]? {
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let left = deadline - Sock.now()
                if left <= 0 { return nil }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let rc = poll(&p, 1, Int32(max(1, left * 1000)))
                if rc < 0 && errno == EINTR { continue }
                if rc <= 0 { continue }
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n > 0 {
                    received += buf[0..<n]
                    return Array(buf[0..<n])
                }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                return nil
            }
        }
    }
}
