import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// kill -9 of the server in the middle of a large upload leaves no partial file at the final
/// path; the next start removes the abandoned temporary file.
final class CrashSafetyTests: XCTestCase {
    func testKillDuringUploadLeavesNoPartialFile() async throws {
        let binary = BrowserPageTests.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let root = NSTemporaryDirectory() + "quantum-sync-crash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "old version".write(toFile: root + "/big.bin", atomically: true, encoding: .utf8)
        let port = try freeTCPPort()
        let config = root + ".json"
        try #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "file_sync", "root": \#(JSONValue.quote(root)), "enable_upload": true}]}]}}}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }

        let server = try spawnProcess(binary, ["run", "--config", config])
        defer { kill(server.pid, SIGKILL); close(server.stdout) }
        var client: RawClient?
        for _ in 0..<100 {
            if let c = try? RawClient(port: port), runProcess("curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/api/list"]).status == 0 {
                client = c
                break
            }
            usleep(100_000)
        }
        let upload = try XCTUnwrap(client, "server did not start")
        let total = 64 << 20
        upload.send("PUT /api/upload/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: \(total)\r\n\r\n")
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        for _ in 0..<16 { upload.send(chunk) }
        // The server has been writing the temporary file: wait until it holds data.
        let temporary = root + "/.quantum-sync/tmp"
        XCTAssertTrue(waitUntil { (try? FileManager.default.contentsOfDirectory(atPath: temporary))?.first.map { name in
            ((try? FileManager.default.attributesOfItem(atPath: temporary + "/" + name))?[.size] as? Int ?? 0) > 0
        } ?? false }, "the upload reached the temporary file")
        kill(server.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(server.pid, &status, 0)

        XCTAssertEqual(try String(contentsOfFile: root + "/big.bin", encoding: .utf8), "old version",
                       "the final path still holds the previous version, never part of the new one")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root).sorted(), [".quantum-sync", "big.bin"])

        // The next start cleans up what the crash abandoned.
        let restarted = try await SyncServer.start(root: root)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary), [])
        XCTAssertEqual(restarted.file("big.bin"), "old version")
        await restarted.stop(removing: false)
    }

    private func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
