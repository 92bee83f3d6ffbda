import Foundation
import Quantum
import QuantumTestSupport
import Synchronization
import XCTest

/// The `quantum` command line: commands, exit statuses and messages, and the built binary.
final class CLITests: XCTestCase {
    /// Collects what a command prints.
    final class Output: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var text: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    /// Runs `quantum <arguments>` in-process; returns status, stdout and stderr.
    static func quantum(_ arguments: [String]) async -> (status: Int32, out: String, err: String) {
        let out = Output(), err = Output()
        var command = QuantumCommand()
        command.name = "quantum"  // not the test runner's name
        command.out = { out.append($0) }
        command.err = { err.append($0) }
        let status = await command.run(arguments)
        return (status, out.text, err.text)
    }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var temporaryFiles: [String] = []

    override func tearDown() {
        for path in temporaryFiles { try? FileManager.default.removeItem(atPath: path) }
        super.tearDown()
    }

    func writeTemporary(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "quantum-cli-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        temporaryFiles.append(path)
        return path
    }

    func testListModulesPrintsEveryStandardModule() async {
        let result = await Self.quantum(["list-modules"])
        XCTAssertEqual(result.status, 0)
        let expected = [
            "http.handlers.error", "http.handlers.headers", "http.handlers.request_body", "http.handlers.rewrite",
            "http.handlers.static_response", "http.handlers.subroute", "http.handlers.vars",
            "http.matchers.client_ip", "http.matchers.header", "http.matchers.header_regexp", "http.matchers.host",
            "http.matchers.method", "http.matchers.not", "http.matchers.path", "http.matchers.path_regexp",
            "http.matchers.protocol", "http.matchers.query", "http.matchers.remote_ip", "http.matchers.vars",
        ]
        let printed = result.out.split(separator: "\n").map(String.init)
        for id in expected { XCTAssertTrue(printed.contains(id), "list-modules is missing \(id)") }
        XCTAssertEqual(printed, StandardModules.registry.moduleIDs, "one line per registered module, sorted")
        XCTAssertEqual(result.err, "")
    }

    func testVersion() async {
        for spelling in ["version", "--version", "-v"] {
            let result = await Self.quantum([spelling])
            XCTAssertEqual(result.status, 0, spelling)
            XCTAssertEqual(result.out, "quantum \(QuantumCommand.version)", spelling)
        }
    }

    func testHelp() async {
        for arguments in [["help"], ["--help"], ["-h"], []] {
            let result = await Self.quantum(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments)")
            XCTAssertEqual(result.out, QuantumCommand.usage(), "\(arguments)")
            for command in ["run", "validate", "list-modules", "version"] {
                XCTAssertTrue(result.out.contains(command), "help mentions \(command)")
            }
        }
    }

    func testUnknownCommandIsAUsageError() async {
        let result = await Self.quantum(["serve"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.err.hasPrefix("quantum: unknown command \"serve\"\n"), result.err)
        XCTAssertTrue(result.err.contains(QuantumCommand.usage()))
        XCTAssertEqual(result.out, "")
    }

    func testUnknownFlagIsAUsageError() async {
        for arguments in [["validate", "--confg", "x.json"], ["list-modules", "--all"], ["run", "--config=x", "--bogus"]] {
            let flag = arguments.first { $0.hasPrefix("--") && !$0.hasPrefix("--config") }!
            let result = await Self.quantum(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.err.hasPrefix("quantum: unknown option \"\(flag)\""), result.err)
        }
    }

    func testFlagValueProblemsAreUsageErrors() async {
        let missing = await Self.quantum(["validate", "--config"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.hasPrefix("quantum: --config needs a value"), missing.err)
        let noConfig = await Self.quantum(["validate"])
        XCTAssertEqual(noConfig.status, 2)
        XCTAssertTrue(noConfig.err.hasPrefix("quantum: validate needs --config FILE"), noConfig.err)
        let watch = await Self.quantum(["run", "--watch"])
        XCTAssertEqual(watch.status, 2)
        XCTAssertTrue(watch.err.hasPrefix("quantum: --watch needs --config FILE"), watch.err)
    }

    func testValidateAcceptsAGoodConfig() async throws {
        let path = try writeTemporary("""
        {"apps": {"http": {"servers": {"srv0": {"listen": [":8080"],
          "routes": [{"match": [{"host": ["example.com"]}], "handle": [{"handler": "static_response", "body": "hi"}]}]}}}}}
        """)
        for arguments in [["validate", "--config", path], ["validate", "--config=\(path)"]] {
            let result = await Self.quantum(arguments)
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertEqual(result.out, "Valid configuration: \(path)")
        }
    }

    func testValidateRejectsABadConfigNamingThePath() async throws {
        let path = try writeTemporary("""
        {"apps": {"http": {"servers": {"srv0": {"listen": [":8080"],
          "routes": [{"handle": [{"handler": "static_response"}]}, {"handle": [{"handler": "fle_server"}]}]}}}}}
        """)
        let result = await Self.quantum(["validate", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.out, "")
        XCTAssertTrue(result.err.hasPrefix("quantum: \(path): apps.http.servers.srv0.routes[1].handle[0].handler: unknown handler \"fle_server\"; did you mean \"file_server\"?"), result.err)
    }

    func testValidateRejectsBadJSONWithLineAndColumn() async throws {
        let path = try writeTemporary("{\n  \"apps\": {\n}")
        let result = await Self.quantum(["validate", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.err, "quantum: \(path): invalid JSON at line 3, column 2: unexpected end of input")
    }

    func testValidateAMissingFile() async {
        let path = "/nonexistent/quantum-\(UUID().uuidString).json"
        let result = await Self.quantum(["validate", "--config", path])
        XCTAssertEqual(result.status, 1, "a missing file is not a usage error (Caddy exits 1 too)")
        XCTAssertTrue(result.err.hasPrefix("quantum: cannot read config \(path): "), result.err)
        XCTAssertFalse(result.err.contains("Usage:"), "no usage text for a file problem")
    }

    func testEveryShippedConfigValidates() async throws {
        let directory = Self.repo.appendingPathComponent("Configs").path
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        try XCTSkipIf(files.isEmpty, "no Configs/*.json in this checkout")
        for file in files {
            let result = await Self.quantum(["validate", "--config", directory + "/" + file])
            XCTAssertEqual(result.status, 0, "\(file): \(result.err)")
        }
    }

    /// `hash-password` prints what `caddy hash-password` prints: scrypt keys byte for byte (same
    /// salt), bcrypt hashes in the same `$2a$14$` form that both verify.
    func testHashPasswordAgreesWithCaddy() async throws {
        let scrypt = await Self.quantum(["hash-password", "--plaintext", "hunter2", "--algorithm", "scrypt", "--salt", "pepper"])
        XCTAssertEqual(scrypt.status, 0, scrypt.err)
        let bcrypt = await Self.quantum(["hash-password", "--plaintext", "hunter2"])
        XCTAssertTrue(bcrypt.out.hasPrefix("$2a$14$") && bcrypt.out.count == 60, bcrypt.out)
        XCTAssertTrue(PasswordHash.bcrypt.matches("hunter2", hash: Array(bcrypt.out.utf8)))
        XCTAssertFalse(PasswordHash.bcrypt.matches("hunter3", hash: Array(bcrypt.out.utf8)))
        let refused = await Self.quantum(["hash-password", "--plaintext", "x", "--algorithm", "md5"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.err.contains("unknown --algorithm \"md5\""), refused.err)
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let theirs = runProcess(DebianCaddy.path, ["hash-password", "--plaintext", "hunter2", "--algorithm", "scrypt", "--salt", "pepper"])
        XCTAssertEqual(scrypt.out, theirs.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testDefaultConfigIsValid() throws {
        let directory = NSTemporaryDirectory() + "quantum-default-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sites = try DefaultSites(workingDirectory: directory, listen: nil, dataDirectory: directory + "/data")
        let loaded = try ConfigLoader.load(json: sites.json(), registry: StandardModules.registry)
        defer { loaded.context.cleanup() }
        XCTAssertEqual(loaded.config.apps.http?.servers["default"]?.listen.first, "127.0.0.1:8080")
        XCTAssertEqual(loaded.config.apps.http?.servers["sync"]?.listen.first, "127.0.0.1:8081")
        XCTAssertTrue(FileIO.isDirectory(directory + "/sync-data"), "the sync site's data folder is made on first start")
    }

    // MARK: The built binary

    /// The body of the first successful GET of `url` while a server starts (10 s at most).
    static func firstBody(_ url: String) -> String {
        for _ in 0..<100 {
            let result = runProcess("curl", ["-s", "--max-time", "2", url])
            if result.status == 0 { return result.output }
            usleep(100_000)
        }
        return ""
    }

    /// Starts the built binary with its standard error captured, in `directory` if given, with
    /// `environment` added to the tests' own.
    static func launch(_ binary: String, _ arguments: [String], directory: String? = nil,
                       environment: [String: String] = [:]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = testEnvironment().merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, stderr)
    }

    func testBinaryServesAConfigAndExitsCleanlyOnSIGTERM() throws {
        let binary = Self.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let port = try freeTCPPort()
        let config = try writeTemporary("""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\(port)"],
          "routes": [{"handle": [{"handler": "static_response", "body": "hello from {http.request.uri.path}"}]}]}}}}}
        """)
        let (process, stderr) = try Self.launch(binary, ["run", "--config", config])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        XCTAssertEqual(Self.firstBody("http://127.0.0.1:\(port)/ping"), "hello from /ping")

        let log = stopCleanly(process, stderr: stderr)
        XCTAssertTrue(log.contains("listening on tcp/127.0.0.1:\(port)") || log.contains("127.0.0.1:\(port)"), log)
        XCTAssertTrue(log.contains("shutting down"), log)
    }

    /// Messages and usage carry the executable's own name (a server built on the library is
    /// not called quantum).
    func testMessagesUseTheExecutablesName() throws {
        let binary = Self.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let link = NSTemporaryDirectory() + "quantum-name-\(UUID().uuidString)/myserver"
        try FileManager.default.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binary)
        temporaryFiles.append((link as NSString).deletingLastPathComponent)
        let (process, stderr) = try Self.launch(link, ["bogus"])
        process.waitUntilExit()
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 2, log)
        XCTAssertTrue(log.contains("myserver: unknown command \"bogus\""), log)
        XCTAssertTrue(log.contains("Usage: myserver <command>"), log)
    }

    func testBinaryRefusesABadConfig() throws {
        let binary = Self.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let config = try writeTemporary(#"{"apps": {"http": {"servers": {"srv0": {"listen": [":0"], "read_timout": "1s"}}}}}"#)
        let (process, stderr) = try Self.launch(binary, ["run", "--config", config])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1)
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(log.contains(#"apps.http.servers.srv0: unknown field "read_timout""#), log)
    }
}
