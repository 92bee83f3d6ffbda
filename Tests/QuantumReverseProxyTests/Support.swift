import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import Synchronization
import XCTest

/// Upstream behaviours the proxy tests need, as handlers a config can name.

/// `test_switch`: answers with the status set for `name` in `TestSwitch` (200 by default).
struct SwitchHandler: HandlerModule {
    static let moduleID = "http.handlers.test_switch"
    var name: String
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        Response.text(name, status: TestSwitch.status(name))
    }
}

/// Statuses the `test_switch` handlers answer with, settable while servers run.
enum TestSwitch {
    private static let statuses = Mutex<[String: Int]>([:])
    static func set(_ name: String, _ status: Int) { statuses.withLock { $0[name] = status } }
    static func status(_ name: String) -> Int { statuses.withLock { $0[name] ?? 200 } }
}

/// `test_hold`: waits `ms` before answering `body` (requests in flight, timeouts).
struct HoldHandler: HandlerModule {
    static let moduleID = "http.handlers.test_hold"
    var ms: Int
    var body: String?
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        HoldHandler.hits.withLock { $0[body ?? "held", default: 0] += 1 }
        try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
        return Response.text(body ?? "held")
    }

    /// Requests received per body text (a test's upstream name).
    static let hits = Mutex<[String: Int]>([:])
}

/// `test_count_body`: reads the request body in chunks and answers how many bytes came.
struct CountBodyHandler: HandlerModule {
    static let moduleID = "http.handlers.test_count_body"
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        var total = 0
        while let chunk = try await request.body.next() { total += chunk.count }
        return Response.text(String(total))
    }
}

/// `test_stream`: a body of `size` bytes of `x`, streamed in `chunk`-sized writes without a length.
struct StreamHandler: HandlerModule {
    static let moduleID = "http.handlers.test_stream"
    var size: Int
    var chunk: Int?
    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let size = self.size, piece = chunk ?? 65536
        return Response(status: 200, body: .stream(length: nil) { writer in
            var left = size
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: piece)
            while left > 0 {
                let n = min(left, piece)
                try await writer.write(n == piece ? block : Array(block.prefix(n)))
                left -= n
            }
        })
    }
}

let proxyTestRegistry: ModuleRegistry = {
    var r = StandardModules.registry
    r.register(SwitchHandler.self)
    r.register(HoldHandler.self)
    r.register(CountBodyHandler.self)
    r.register(StreamHandler.self)
    return r
}()

/// A named upstream: `/health` answers through `test_switch` (status settable), `/echo` shows
/// what the proxy forwarded, `/hold` waits, everything else answers its name.
func startUpstream(_ name: String, serverFields: String = "") async throws -> TestServer {
    try await TestServer.start(routes: """
    [{"match": [{"path": ["/health"]}], "handle": [{"handler": "test_switch", "name": "\(name)"}], "terminal": true},
     {"match": [{"path": ["/echo"]}], "handle": [{"handler": "static_response",
        "body": "\(name)|{http.request.header.X-Forwarded-For}|{http.request.header.X-Forwarded-Proto}|{http.request.header.X-Forwarded-Host}|{http.request.host}|{http.request.header.Connection}|{http.request.header.X-Up}"}], "terminal": true},
     {"match": [{"path": ["/hold"]}], "handle": [{"handler": "test_hold", "ms": 400, "body": "\(name)"}], "terminal": true},
     {"match": [{"path": ["/count"]}], "handle": [{"handler": "test_count_body"}], "terminal": true},
     {"match": [{"path": ["/stream"]}], "handle": [{"handler": "test_stream", "size": 3000000}], "terminal": true},
     {"match": [{"path": ["/ws"]}], "handle": [{"handler": "websocket_echo"}], "terminal": true},
     {"match": [{"path": ["/fail"]}], "handle": [{"handler": "static_response", "status_code": 500, "body": "\(name)"}], "terminal": true},
     {"handle": [{"handler": "static_response", "body": "\(name)"}]}]
    """, serverFields: serverFields, registry: proxyTestRegistry)
}

/// A proxy server whose one route is `reverse_proxy` with `fields` (JSON members after the handler name).
func startProxy(_ fields: String, serverFields: String = "", errors: String? = nil) async throws -> TestServer {
    try await TestServer.start(routes: """
    [{"handle": [{"handler": "reverse_proxy", \(fields)}]}]
    """, serverFields: serverFields, errors: errors, registry: proxyTestRegistry)
}

/// `"upstreams": [...]` for these servers.
func upstreamsJSON(_ servers: [TestServer]) -> String {
    #""upstreams": ["# + servers.map { #"{"dial": "127.0.0.1:\#($0.port)"}"# }.joined(separator: ", ") + "]"
}

/// One request on its own connection; the response or a failed assertion.
func get(_ port: Int, _ target: String = "/", method: String = "GET", headers: [(String, String)] = [], body: String = "",
         file: StaticString = #filePath, line: UInt = #line) throws -> HTTPTestResponse {
    let client = try RawClient(port: port)
    var text = "\(method) \(target) HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n"
    for (n, v) in headers { text += "\(n): \(v)\r\n" }
    client.send(text + "\r\n" + body)
    return try XCTUnwrap(client.readResponse(isHead: method == "HEAD"), "no response", file: file, line: line)
}

/// Bodies of `count` sequential GETs.
func bodies(_ port: Int, _ count: Int, _ target: String = "/", headers: [(String, String)] = []) throws -> [String] {
    try (0..<count).map { _ in try get(port, target, headers: headers).bodyText }
}

/// Polls `condition` every 50 ms for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = SystemClock.monotonicNanos() + UInt64(seconds * 1e9)
    while SystemClock.monotonicNanos() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// What a client reads, to the end, for `request` sent through a fresh proxy to `canned`
/// (both are stopped afterwards).
func rawThroughProxy(to canned: CannedUpstream, _ request: String) async throws -> String {
    let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(canned.port)"}]"#)
    let client = try RawClient(port: proxy.port)
    client.send(request)
    let raw = String(decoding: client.readAll(), as: UTF8.self)
    await proxy.stop(); canned.stop()
    return raw
}

/// A listening TCP socket on 127.0.0.1 and the port the kernel chose.
func loopbackListener() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    listen(fd, 64)
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

/// A bare TCP server answering every connection with `response` after reading the request
/// head: upstream behaviour Quantum's own server would never produce. Serves until closed.
final class CannedUpstream: @unchecked Sendable {
    let fd: Int32
    let port: Int

    /// Answers every request with `response`; one per connection, or all on it (`keepAlive`).
    /// With `rest`, the answer ends with it 100 ms later, so the proxy sees the start alone.
    init(_ response: String, rest: String? = nil, keepAlive: Bool = false) {
        let (listener, port) = loopbackListener()
        fd = listener
        self.port = port
        let bytes = Array(response.utf8)
        let later = rest.map { Array($0.utf8) }
        Thread.detachNewThread {
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                var buf = [UInt8](repeating: 0, count: 4096)
                repeat {
                    var head: [UInt8] = []
                    while !head.ends(with: [13, 10, 13, 10]) {
                        let n = read(c, &buf, buf.count)
                        if n <= 0 { break }
                        head += buf[0..<n]
                    }
                    if head.isEmpty { break }
                    _ = bytes.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
                    if let later {
                        usleep(100_000)
                        _ = later.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
                    }
                } while keepAlive
                close(c)
            }
        }
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}

extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

/// An upstream that answers its first `answers` requests (so the proxy pools a connection),
/// then none: counts the connections that hold a request it will never answer, so a test sees
/// when the proxy lets go of them.
final class SilentUpstream: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let state = Mutex<(answersLeft: Int, waiting: Int)>((0, 0))
    /// Connections holding an unanswered request.
    var waitingConnections: Int { state.withLock { $0.waiting } }

    init(answers: Int = 0) throws {
        let (listener, port) = loopbackListener()
        fd = listener
        self.port = port
        state.withLock { $0.answersLeft = answers }
        Thread.detachNewThread { [self] in
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                Thread.detachNewThread { [self] in serve(c) }
            }
        }
    }

    private func serve(_ c: Int32) {
        var buf = [UInt8](repeating: 0, count: 4096)
        var holding = false
        while true {
            let n = read(c, &buf, buf.count)
            if n <= 0 { break }
            guard !holding else { continue }
            let answer = state.withLock { s -> Bool in
                if s.answersLeft > 0 { s.answersLeft -= 1; return true }
                s.waiting += 1
                return false
            }
            if answer {
                let ok = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)
                _ = ok.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            } else {
                holding = true
            }
        }
        close(c)
        if holding { state.withLock { $0.waiting -= 1 } }
    }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
