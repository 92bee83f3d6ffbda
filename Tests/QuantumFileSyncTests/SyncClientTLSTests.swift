import Foundation
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// `quantum sync` against an https server: REST over TLS and the hub over wss://.
final class SyncClientTLSTests: XCTestCase {
    func testSyncOverHTTPSAndRealtimeOverWSS() async throws {
        let pki = try TestPKI.get()
        let root = NSTemporaryDirectory() + "quantum-sync-tls-\(UUID().uuidString)"
        let local = NSTemporaryDirectory() + "quantum-sync-tls-local-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root); try? FileManager.default.removeItem(atPath: local) }
        try "from the server".write(toFile: root + "/server.txt", atomically: true, encoding: .utf8)
        try "from the laptop".write(toFile: local + "/laptop.txt", atomically: true, encoding: .utf8)
        let server = try await TestServer.start("""
        {"apps": {"tls": {"certificates": {"load_files": [{"certificate": "\(pki.cert("a"))", "key": "\(pki.key("a"))"}]}},
          "http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "tls_connection_policies": [{}],
            "routes": [{"handle": [{"handler": "file_sync", "root": \(JSONValue.quote(root)), "enable_upload": true}]}]}}}}}
        """)
        var options = SyncClient.Options(server: "https://127.0.0.1:\(server.port)", localPath: local, clientID: "tls-laptop")
        options.tls = TLSClientConfiguration(trustRootsFile: pki.cert("ca"))
        options.firstBackoff = .milliseconds(100)
        let client = try SyncClient(options)
        let summary = try await client.synchronize()
        XCTAssertEqual(summary.failed, 0)
        XCTAssertEqual(try String(contentsOfFile: local + "/server.txt", encoding: .utf8), "from the server")
        XCTAssertEqual(try String(contentsOfFile: root + "/laptop.txt", encoding: .utf8), "from the laptop")

        let before = await client.subscriptions
        let task = Task { await client.runRealtime() }
        try await eventually("subscribed over wss") { await client.subscriptions > before }
        try "made later".write(toFile: root + "/later.txt", atomically: false, encoding: .utf8)
        try await eventually("the disk change reached the client") {
            (try? String(contentsOfFile: local + "/later.txt", encoding: .utf8)) == "made later"
        }
        await client.stop()
        await task.value

        // A client that does not trust the server's CA gets nowhere.
        var untrusting = SyncClient.Options(server: "https://127.0.0.1:\(server.port)", localPath: local, clientID: "x")
        untrusting.tls = TLSClientConfiguration(trustRootsFile: pki.cert("rogueca"))
        do {
            _ = try await SyncClient(untrusting).synchronize()
            XCTFail("an untrusted server must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("TLS"), "\(error)")
        }
        await server.stop()
    }
}
