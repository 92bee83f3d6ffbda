import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// A config reload keeps file_sync's realtime clients: the root (hub, log, watcher) is shared
/// per path, and the new config takes it before the old lets it go.
final class ReloadTests: XCTestCase {
    private func config(root: String, port: Int, heartbeat: String) throws -> LoadedConfig {
        try ConfigLoader.load(json: Array("""
        {"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\(port)"], "routes": [
          {"handle": [{"handler": "file_sync", "root": \(JSONValue.quote(root)), "enable_upload": true, "watch": false,
                       "heartbeat_interval": "\(heartbeat)"}]}]}}}}}
        """.utf8), registry: StandardModules.registry)
    }

    func testARealtimeClientKeepsReceivingChangesAcrossAReload() async throws {
        let root = NSTemporaryDirectory() + "quantum-sync-reload-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = freePort()
        let instance = Instance(group: try EventLoopGroup(loopCount: 2))
        try await instance.start(try config(root: root, port: port, heartbeat: "30s"))
        let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)/ws")
        _ = try await socket.subscribe("laptop")
        try await instance.reload(try config(root: root, port: port, heartbeat: "20s"))

        let client = try RawClient(port: port)
        client.send("PUT /api/upload/after-reload.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        XCTAssertEqual(client.readResponse()?.status, 201)
        let operation = try await socket.nextJSON()
        XCTAssertEqual(operation["seq"]?.int, 1, "the same log: the sequence goes on")
        XCTAssertEqual(operation["operation"]?["Create"]?["metadata"]?["path"]?.string, "after-reload.txt")
        await socket.close()
        await instance.stop(graceNanos: 0)
        instance.group.shutdown()
    }
}
