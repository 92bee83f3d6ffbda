import Foundation
import Glibc
import Quantum
import QuantumFileSync
import QuantumTestSupport
import XCTest

/// `quantum sync` as a program: the built binary against an in-process server.
final class SyncClientCLITests: XCTestCase {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/quantum").path

    func testBinaryInitialSyncThenRealtimeUntilSIGTERM() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "no built binary at \(Self.binary)")
        let s = try await SyncServer.start()
        _ = try s.upload("from%20server/a.txt", "server file")
        let dir = NSTemporaryDirectory() + "quantum-sync-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("local file".utf8).write(to: URL(fileURLWithPath: dir + "/local.txt"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["sync", "--server", "http://127.0.0.1:\(s.port)", "--local-path", dir, "--initial-sync", "--realtime",
                             "--client-id", "cli"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        try await eventually("initial sync both ways") {
            (try? String(contentsOfFile: dir + "/from server/a.txt", encoding: .utf8)) == "server file" && s.file("local.txt") == "local file"
        }
        // Realtime: a server change arrives, a local change goes up.
        _ = try s.upload("later.txt", "later", headers: [("X-Client-Id", "web")])
        try await eventually("realtime download") { (try? String(contentsOfFile: dir + "/later.txt", encoding: .utf8)) == "later" }
        try Data("typed".utf8).write(to: URL(fileURLWithPath: dir + "/typed.txt"))
        try await eventually("realtime upload") { s.file("typed.txt") == "typed" }
        // (The file is in place a moment before its operation is logged.)
        try await eventually("the upload is logged as cli's") { try s.operations().contains { $0.path == "typed.txt" && $0.source == "cli" } }

        let log = stopCleanly(process, stderr: stderr)
        XCTAssertTrue(log.contains("syncing \(dir) with http://127.0.0.1:\(s.port) as cli"), log)
        // Not a terminal: plain progress lines, no carriage returns.
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(out.contains("[1/3] "), out)
        XCTAssertTrue(out.contains("download from server/a.txt"), out)
        XCTAssertTrue(out.contains("upload local.txt"), out)
        XCTAssertTrue(out.contains("sync: 3 changes (1 down, 1 up"), out)
        XCTAssertFalse(out.contains("\r"), out)
        // Realtime changes, one line each as they are applied (the initial sync's are progress lines).
        XCTAssertTrue(out.contains("\n↓ created later.txt (5 B)\n"), out)
        XCTAssertTrue(out.contains("\n↑ created typed.txt (5 B)\n"), out)
        XCTAssertFalse(out.contains("↓ created from server/a.txt"), "initial sync steps are not repeated as change lines: \(out)")
        await s.stop()
    }

    /// `--json`: every change (the initial sync's too) as one JSON object per line, read as it comes.
    func testBinaryJSONReportsEachChangeAsItHappens() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "no built binary at \(Self.binary)")
        let s = try await SyncServer.start()
        _ = try s.upload("first.txt", "one")
        let dir = NSTemporaryDirectory() + "quantum-sync-json-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["sync", "--server", "http://127.0.0.1:\(s.port)", "--local-path", dir, "--initial-sync", "--realtime",
                             "--client-id", "scripted", "--json"]
        // Standard output into a file the test reads while the process runs.
        let output = dir + ".out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let stderr = Pipe()
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        /// The complete lines written so far.
        func lines() -> [String] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        func parsed() -> [JSONValue] { lines().compactMap { try? JSONParser.parse(Array($0.utf8)) } }
        try await eventually("the initial download reported") { parsed().contains { $0["path"]?.string == "first.txt" } }
        _ = try s.upload("first.txt", "two", headers: [("X-Client-Id", "web")])
        try await eventually("the update reported while the process runs") {
            parsed().contains { $0["action"]?.string == "updated" && $0["path"]?.string == "first.txt" }
        }
        _ = stopCleanly(process, stderr: stderr)
        let events = parsed()
        XCTAssertEqual(events.count, lines().count, "every line is JSON: \(lines())")
        let first = try XCTUnwrap(events.first)
        XCTAssertEqual(first["direction"]?.string, "down")
        XCTAssertEqual(first["action"]?.string, "created")
        XCTAssertEqual(first["size"]?.int, 3)
        XCTAssertEqual(first["is_directory"], .bool(false))
        await s.stop()
    }

    /// A URL that is a web site, not the sync API, says what answered.
    func testAServerThatIsNotFileSyncIsNamed() async throws {
        let web = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "headers": {"Content-Type": ["text/html"]}, "body": "<!doctype html><title>My site</title>"}]}]"#)
        let dir = NSTemporaryDirectory() + "quantum-sync-web-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let err = LogLines()
        var command = QuantumCommand()
        command.name = "quantum"
        command.out = { _ in }
        command.err = { err.append($0) }
        let status = await command.run(["sync", "--server", "http://127.0.0.1:\(web.port)", "--local-path", dir, "--client-id", "x"])
        await web.stop()
        let text = err.all.joined(separator: "\n")
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("answered 200 with text/html"), text)
        XCTAssertTrue(text.contains("<!doctype html>"), text)
        XCTAssertTrue(text.contains("not file_sync's JSON"), text)
    }

    func testUsageErrors() async {
        func run(_ args: [String]) async -> (Int32, String) {
            let err = LogLines()
            var command = QuantumCommand()
            command.name = "quantum"
            command.out = { _ in }
            command.err = { err.append($0) }
            let status = await command.run(args)
            return (status, err.all.joined(separator: "\n"))
        }
        let noServer = await run(["sync", "--local-path", "/tmp"])
        XCTAssertEqual(noServer.0, 2)
        XCTAssertTrue(noServer.1.contains("sync needs --server URL"), noServer.1)
        let ftp = await run(["sync", "--server", "ftp://example.com", "--local-path", "/tmp"])
        XCTAssertEqual(ftp.0, 2)
        XCTAssertTrue(ftp.1.contains("expected http(s)://HOST:PORT[/prefix]"), ftp.1)
        let both = await run(["sync", "--server", "http://127.0.0.1:1", "--local-path", "/tmp", "--quiet", "--json"])
        XCTAssertEqual(both.0, 2)
        XCTAssertTrue(both.1.contains("--quiet and --json cannot be used together"), both.1)
        let missing = await run(["sync", "--server", "http://127.0.0.1:1", "--local-path", "/nonexistent/quantum-sync"])
        XCTAssertEqual(missing.0, 1)
        XCTAssertTrue(missing.1.contains("is not a directory"), missing.1)
        let help = QuantumCommand.usage()
        XCTAssertTrue(help.contains("sync --server URL --local-path DIR [--initial-sync] [--realtime]"), help)
    }
}
