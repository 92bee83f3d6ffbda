import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The `quantum` binary operated as Caddy is: Debian's `caddy` CLI reloads and stops it through
/// the admin API, and so do `quantum reload`, `quantum stop` and `run --resume`.
final class AdminCommandTests: XCTestCase {
    let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path
    var scratch = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        scratch = NSTemporaryDirectory() + "quantum-admin-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    func write(_ name: String, port: Int, admin: Int, body: String) throws -> String {
        let path = scratch + "/" + name
        try #"{"admin": {"listen": "127.0.0.1:\#(admin)"}, "apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "static_response", "body": "\#(body)"}]}]}}}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `quantum run ARGS` with its autosave in this test's scratch folder.
    func launch(_ arguments: [String]) throws -> (Process, Pipe) {
        try CLITests.launch(binary, arguments, environment: ["XDG_CONFIG_HOME": scratch + "/config-home"])
    }

    func waitForExit(_ process: Process, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return !process.isRunning
    }

    func testCaddysCLIReloadsAndStopsQuantum() throws {
        let caddy = "/usr/bin/caddy"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: caddy), "Debian's caddy is not installed")
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let first = try write("a.json", port: port, admin: admin, body: "A")
        let second = try write("b.json", port: port, admin: admin, body: "B")
        let (process, stderr) = try launch(["run", "--config", first])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")

        let reload = runProcess(caddy, ["reload", "--config", second, "--address", "127.0.0.1:\(admin)"])
        XCTAssertEqual(reload.status, 0, reload.output)
        XCTAssertEqual(fetch(port), "B", "caddy reload loaded the new config")
        XCTAssertEqual(runProcess(caddy, ["reload", "--config", second, "--address", "127.0.0.1:\(admin)"]).status, 0, "unchanged: a no-op")
        XCTAssertEqual(runProcess(caddy, ["reload", "--config", second, "--address", "127.0.0.1:\(admin)", "--force"]).status, 0)
        XCTAssertEqual(fetch(port), "B")

        let stop = runProcess(caddy, ["stop", "--address", "127.0.0.1:\(admin)"])
        XCTAssertEqual(stop.status, 0, stop.output)
        XCTAssertTrue(waitForExit(process), "caddy stop ended the server")
        XCTAssertEqual(process.terminationStatus, 0)
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(log.contains(#""msg":"shutdown complete""#), log)
    }

    /// The process's own entries (start, a reload, a stop through the API) as Caddy 2.6.2 writes
    /// them for the same steps: each of Quantum's has its logger and message in Caddy's run, with
    /// Caddy's fields (Quantum adds the addresses a server listens on).
    func testProcessEntriesAreCaddys() throws {
        let caddy = "/usr/bin/caddy"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: caddy), "Debian's caddy is not installed")
        func steps(_ arguments: [String], executable: String, environment: [String: String]) throws -> [[String: Any]] {
            let (port, admin) = (try freeTCPPort(), try freeTCPPort())
            let config = try write("p-\(port).json", port: port, admin: admin, body: "A")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + [config]
            process.environment = environment
            let stderr = Pipe()
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")
            XCTAssertEqual(runProcess(caddy, ["reload", "--config", config, "--address", "127.0.0.1:\(admin)", "--force"]).status, 0)
            XCTAssertEqual(runProcess(caddy, ["stop", "--address", "127.0.0.1:\(admin)"]).status, 0)
            XCTAssertTrue(waitForExit(process))
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return try text.split(separator: "\n").map { line in
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            }
        }
        var caddyEnvironment = ProcessInfo.processInfo.environment
        caddyEnvironment["HOME"] = scratch
        caddyEnvironment["XDG_DATA_HOME"] = scratch + "/caddy-data"
        caddyEnvironment["XDG_CONFIG_HOME"] = scratch + "/caddy-config"
        let theirs = try steps(["run", "--config"], executable: caddy, environment: caddyEnvironment)
        var ourEnvironment = testEnvironment()
        ourEnvironment["XDG_CONFIG_HOME"] = scratch + "/config-home"
        let ours = try steps(["run", "--config"], executable: binary, environment: ourEnvironment)

        func key(_ entry: [String: Any]) -> String { "\(entry["logger"] as? String ?? "") \(entry["msg"] as? String ?? "")" }
        let expected = ["using provided configuration", "admin admin endpoint started", "http.log server running",
                        "autosaved config (load with --resume flag)", "serving initial configuration", "admin.api received request",
                        "admin.api load complete", "admin.api exiting; byeee!! 👋", "admin stopped previous server", "admin.api shutdown complete"]
        XCTAssertEqual(ours.map(key).filter { expected.contains($0.trimmingCharacters(in: .whitespaces)) }.count, ours.count,
                       "every entry is one Caddy writes: \(ours.map(key))")
        for name in expected {
            let mine = try XCTUnwrap(ours.first { key($0).trimmingCharacters(in: .whitespaces) == name }, "Quantum wrote \(name)")
            let caddys = try XCTUnwrap(theirs.first { key($0).trimmingCharacters(in: .whitespaces) == name }, "Caddy wrote \(name)")
            XCTAssertEqual(Set(mine.keys).subtracting(["listen"]), Set(caddys.keys), name)
            XCTAssertEqual(mine["level"] as? String, caddys["level"] as? String, name)
        }
        let request = try XCTUnwrap(ours.first { ($0["uri"] as? String) == "/load" })
        XCTAssertEqual(request["method"] as? String, "POST")
        XCTAssertNil((request["headers"] as? [String: Any])?["Host"], "Host is not among the headers, as in Go")
    }

    func testQuantumsOwnReloadStopAndResume() async throws {
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let first = try write("a.json", port: port, admin: admin, body: "A")
        let second = try write("b.json", port: port, admin: admin, body: "B")
        let (process, _) = try launch(["run", "--config", first])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")

        let reload = await CLITests.quantum(["reload", "--config", second])
        XCTAssertEqual(reload.status, 0, reload.err)
        XCTAssertEqual(fetch(port), "B")
        let broken = scratch + "/broken.json"
        try #"{"admin": {"listen": "127.0.0.1:\#(admin)"}, "apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "bogus": 1}}}}}"#
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = await CLITests.quantum(["reload", "--config", broken])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains(#"unknown field "bogus""#), refused.err)
        XCTAssertEqual(fetch(port), "B", "a refused reload changes nothing")

        let stop = await CLITests.quantum(["stop", "--address", "127.0.0.1:\(admin)"])
        XCTAssertEqual(stop.status, 0, stop.err)
        XCTAssertTrue(waitForExit(process))

        // The last config that loaded (B) comes back with --resume, ahead of --config.
        let (resumed, log) = try launch(["run", "--resume", "--config", first])
        defer { if resumed.isRunning { kill(resumed.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "B")
        kill(resumed.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(resumed))
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""msg":"--config and --resume flags were used together; ignoring --config and resuming from last configuration""#), text)
    }

    /// `start` returns once the background server serves (in its own session), and reports a
    /// server that could not start.
    func testStartReturnsOnceServingAndReportsFailures() throws {
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let config = try write("a.json", port: port, admin: admin, body: "A")
        let (starter, _) = try launch(["start", "--config", config])
        XCTAssertTrue(waitForExit(starter, seconds: 30), "start returned")
        XCTAssertEqual(starter.terminationStatus, 0)
        XCTAssertEqual(fetch(port), "A", "serving when start returns, without waiting")
        let pid = runProcess("/usr/bin/pgrep", ["-f", "pingback .*--config \(config)"]).output.split(separator: "\n").first.flatMap { Int32($0) }
        let server = try XCTUnwrap(pid, "the background server runs")
        defer { kill(server, SIGKILL) }
        XCTAssertEqual(getsid(server), server, "in a session of its own")
        XCTAssertEqual(runProcess(binary, ["stop", "--address", "127.0.0.1:\(admin)"]).status, 0)
        for _ in 0..<200 where kill(server, 0) == 0 { usleep(50_000) }
        XCTAssertNotEqual(kill(server, 0), 0, "stop ended it")

        let broken = scratch + "/broken.json"
        try #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "nope"}]}]}}}}}"#
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let (failing, log) = try launch(["start", "--config", broken])
        XCTAssertTrue(waitForExit(failing, seconds: 30))
        XCTAssertEqual(failing.terminationStatus, 1)
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains(#"unknown handler "nope""#) && text.contains("did not start"), text)
    }

    /// `admin.listen: unix//PATH`: an owner-only socket, driven by curl, Caddy's CLI and
    /// Quantum's; taken by one instance at a time; removed on stop, replaced when stale.
    func testAdminOnAUnixSocket() throws {
        let socket = scratch + "/admin.sock"
        let port = try freeTCPPort()
        func config(_ name: String, _ body: String) throws -> String {
            let path = scratch + "/" + name
            try #"{"admin": {"listen": "unix/\#(socket)"}, "apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "static_response", "body": "\#(body)"}]}]}}}}}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let (first, second) = (try config("a.json", "A"), try config("b.json", "B"))
        let (process, _) = try launch(["run", "--config", first])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: socket)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o600, "only its owner may connect")
        let read = runProcess("curl", ["-s", "--unix-socket", socket, "http://localhost/config/admin/listen"])
        XCTAssertEqual(read.output, "\"unix/\(socket)\"\n")

        let (rival, rivalLog) = try launch(["run", "--config", first])
        XCTAssertTrue(waitForExit(rival))
        XCTAssertEqual(rival.terminationStatus, 1)
        let refusal = String(decoding: rivalLog.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(refusal.contains("Address already in use"), refusal)

        if FileManager.default.isExecutableFile(atPath: "/usr/bin/caddy") {
            let reload = runProcess("/usr/bin/caddy", ["reload", "--config", second, "--address", "unix/\(socket)"])
            XCTAssertEqual(reload.status, 0, reload.output)
            XCTAssertEqual(fetch(port), "B", "Caddy's CLI reloads over the socket")
        }
        XCTAssertEqual(runProcess(binary, ["reload", "--config", first, "--address", "unix/\(socket)"]).status, 0)
        XCTAssertEqual(fetch(port), "A")
        XCTAssertEqual(runProcess(binary, ["stop", "--address", "unix/\(socket)"]).status, 0)
        XCTAssertTrue(waitForExit(process))
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "removed on stop")

        // A socket file left by a killed server is replaced.
        let (killed, _) = try launch(["run", "--config", first])
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")
        kill(killed.processIdentifier, SIGKILL)
        XCTAssertTrue(waitForExit(killed))
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket))
        let (again, _) = try launch(["run", "--config", first])
        defer { if again.isRunning { kill(again.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "A")
        XCTAssertEqual(runProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socket, "http://localhost/config/"]).output, "200")
    }

    func testNothingAnswersWhenNothingRuns() async throws {
        let result = await CLITests.quantum(["stop", "--address", "127.0.0.1:\(try freeTCPPort())"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("cannot reach the admin API"), result.err)
    }

    func testEnvironShowsWhereThingsAreKept() async {
        let result = await CLITests.quantum(["environ"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.out.contains("quantum.ConfigAutosavePath=" + (ConfigController.autosavePath() ?? "")), result.out)
        XCTAssertTrue(result.out.contains("quantum.AppDataDir=" + DataDirectory.resolve()), result.out)
        XCTAssertTrue(result.out.contains("PATH="), "the environment follows")
    }
}
