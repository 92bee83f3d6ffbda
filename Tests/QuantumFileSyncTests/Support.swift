import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// A file_sync server on a fresh temporary root.
final class SyncServer: @unchecked Sendable {
    let root: String
    let server: TestServer

    static func start(_ fields: String = #""enable_upload": true"#, root: String? = nil) async throws -> SyncServer {
        let dir = root ?? NSTemporaryDirectory() + "quantum-sync-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "file_sync", "root": \(JSONValue.quote(dir)), \(fields)}]}]
        """)
        return SyncServer(root: dir, server: server)
    }

    private init(root: String, server: TestServer) {
        self.root = root
        self.server = server
    }

    var port: Int { server.port }

    func stop(removing: Bool = true) async {
        await server.stop()
        if removing { try? FileManager.default.removeItem(atPath: root) }
    }

    /// One request on its own connection.
    func request(_ method: String, _ target: String, body: [UInt8] = [], headers: [(String, String)] = []) throws -> HTTPTestResponse {
        let client = try RawClient(port: port)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if !body.isEmpty || method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        for (n, v) in headers { head += "\(n): \(v)\r\n" }
        client.send(Array((head + "\r\n").utf8) + body)
        return try XCTUnwrap(client.readResponse(isHead: method == "HEAD"))
    }

    func upload(_ path: String, _ text: String, headers: [(String, String)] = []) throws -> HTTPTestResponse {
        try request("PUT", "/api/upload/" + path, body: Array(text.utf8), headers: headers)
    }

    func json(_ response: HTTPTestResponse) throws -> JSONValue { try JSONParser.parse(response.body) }

    func file(_ relative: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))).map { String(decoding: $0, as: UTF8.self) }
    }

    func socket(_ path: String = "/ws", headers: HTTPFields = HTTPFields()) async throws -> WebSocket {
        try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)\(path)", headers: headers)
    }
}

extension WebSocket {
    /// Sends a JSON message.
    func send(json: String) async throws { try await send(text: json) }

    /// The next text message parsed; fails after `seconds` (the receive is left to finish
    /// on its own: `receive()` does not observe cancellation).
    func nextJSON(timeout seconds: Double = 5) async throws -> JSONValue {
        let once = Once()
        let message: WebSocketMessage? = await withCheckedContinuation { c in
            Task { let m = await self.receive(); if once.claim() { c.resume(returning: m) } }
            Task { try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)); if once.claim() { c.resume(returning: nil) } }
        }
        guard case .text(let text)? = message else {
            XCTFail("no text message within \(seconds)s")
            return .null
        }
        return try JSONParser.parse(text)
    }

    /// Subscribes and returns the Ack.
    func subscribe(_ id: String, since: Int? = nil, paths: [String]? = nil) async throws -> JSONValue {
        var msg = #"{"type":"Subscribe","client_id":"\#(id)""#
        if let since { msg += #","since":\#(since)"# }
        if let paths { msg += #","paths":["# + paths.map { JSONValue.quote($0) }.joined(separator: ",") + "]" }
        try await send(text: msg + "}")
        return try await nextJSON()
    }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
}

/// True for the first caller only.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool { lock.lock(); defer { lock.unlock() }; if done { return false }; done = true; return true }
}

func sha256Hex(_ text: String) -> String { Digest.hex(Digest.sha256(Array(text.utf8))) }
