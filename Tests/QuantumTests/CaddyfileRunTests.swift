import Foundation
import Quantum
import QuantumCaddyfile
import QuantumTestSupport
import XCTest

/// Caddyfiles as a user runs them: `quantum run` beside a Caddyfile, `--config Caddyfile`,
/// `/load` with `Content-Type: text/caddyfile`, Caddy's own CLI reloading with a Caddyfile,
/// `adapt`, `validate` and `fmt`.
final class CaddyfileRunTests: XCTestCase {
    let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "quantum-caddyfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch + "/site", withIntermediateDirectories: true)
        try "hello from a file\n".write(toFile: scratch + "/site/index.html", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    /// A site on 127.0.0.1:`port` with its admin on `admin`: files from ./site, a `respond` at /hi.
    func caddyfile(port: Int, admin: Int, greeting: String = "hi") -> String {
        """
        {
        \tadmin 127.0.0.1:\(admin)
        }

        http://127.0.0.1:\(port) {
        \tbind 127.0.0.1
        \troot * \(scratch)/site
        \trespond /hi "\(greeting)"
        \tfile_server
        }

        """
    }

    func launch(_ arguments: [String], in directory: String) throws -> (Process, Pipe) {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        return try CLITests.launch(binary, arguments, directory: directory,
                                   environment: ["XDG_CONFIG_HOME": scratch + "/config-home", "XDG_DATA_HOME": scratch + "/data-home"])
    }

    func stop(_ process: Process, _ stderr: Pipe, file: StaticString = #filePath, line: UInt = #line) -> String {
        stopCleanly(process, stderr: stderr, file: file, line: line)
    }

    func testRunBesideACaddyfileServesItAndHidesIt() throws {
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        // Unformatted on purpose (spaces, no tabs): served all the same, with Caddy's warning.
        try caddyfile(port: port, admin: admin).replacingOccurrences(of: "\t", with: "  ")
            .write(toFile: scratch + "/Caddyfile", atomically: true, encoding: .utf8)
        let (process, stderr) = try launch(["run"], in: scratch)
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/hi"), "hi")
        XCTAssertEqual(fetch(port, "/index.html"), "hello from a file\n")
        let log = stop(process, stderr)
        XCTAssertTrue(log.contains("using adjacent Caddyfile"), log)
        XCTAssertTrue(log.contains(#""logger":"caddyfile","msg":"Caddyfile input is not formatted"#), log)
    }

    func testTheCaddyfileItselfIsNotServed() throws {
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let text = caddyfile(port: port, admin: admin).replacingOccurrences(of: "\(scratch)/site", with: scratch)
        try text.write(toFile: scratch + "/Caddyfile", atomically: true, encoding: .utf8)
        try "public\n".write(toFile: scratch + "/page.txt", atomically: true, encoding: .utf8)
        let (process, stderr) = try launch(["run", "--config", "Caddyfile"], in: scratch)
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/page.txt"), "public\n")
        let status = runProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/Caddyfile"])
        XCTAssertEqual(status.output, "404", "file_server hides the Caddyfile, as Caddy's adapter arranges")
        _ = stop(process, stderr)
    }

    func testLoadAcceptsACaddyfileAndABadOneChangesNothing() throws {
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let path = scratch + "/first.caddyfile"
        try caddyfile(port: port, admin: admin, greeting: "one").write(toFile: path, atomically: true, encoding: .utf8)
        let (process, stderr) = try launch(["run", "--config", path], in: scratch)
        defer { _ = stop(process, stderr) }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/hi"), "one")

        let second = scratch + "/second"
        try caddyfile(port: port, admin: admin, greeting: "two").write(toFile: second, atomically: true, encoding: .utf8)
        let load = runProcess("curl", ["-s", "-w", "\n%{http_code}", "-H", "Content-Type: text/caddyfile", "--data-binary", "@\(second)",
                                       "http://127.0.0.1:\(admin)/load"])
        XCTAssertTrue(load.output.hasSuffix("200"), load.output)
        XCTAssertEqual(fetch(port, "/hi"), "two")

        try "http://127.0.0.1:\(port) {\n\trespnd hi\n}\n".write(toFile: second, atomically: true, encoding: .utf8)
        let bad = runProcess("curl", ["-s", "-w", "\n%{http_code}", "-H", "Content-Type: text/caddyfile", "--data-binary", "@\(second)",
                                      "http://127.0.0.1:\(admin)/load"])
        XCTAssertTrue(bad.output.hasSuffix("400"), bad.output)
        XCTAssertTrue(bad.output.contains("Caddyfile:2: unrecognized directive: respnd"), bad.output)
        XCTAssertEqual(fetch(port, "/hi"), "two", "the old config keeps serving")
    }

    func testCaddysCLIReloadsWithACaddyfile() throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        let (port, admin) = (try freeTCPPort(), try freeTCPPort())
        let path = scratch + "/Caddyfile"
        try caddyfile(port: port, admin: admin, greeting: "before").write(toFile: path, atomically: true, encoding: .utf8)
        let (process, stderr) = try launch(["run", "--config", path], in: scratch)
        defer { _ = stop(process, stderr) }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/hi"), "before")
        try caddyfile(port: port, admin: admin, greeting: "after").write(toFile: path, atomically: true, encoding: .utf8)
        let reload = runProcess(DebianCaddy.path, ["reload", "--config", path, "--adapter", "caddyfile", "--address", "127.0.0.1:\(admin)"])
        XCTAssertEqual(reload.status, 0, reload.output)
        XCTAssertEqual(fetch(port, "/hi"), "after")
        // SIGUSR1 re-reads and re-adapts the file too.
        try caddyfile(port: port, admin: admin, greeting: "signalled").write(toFile: path, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGUSR1)
        var body: String?
        for _ in 0..<100 {
            body = fetch(port, "/hi")
            if body == "signalled" { break }
            usleep(100_000)
        }
        XCTAssertEqual(body, "signalled")
    }

    func testAdaptValidateAndFmt() async throws {
        let path = scratch + "/app.caddyfile"
        try "example.com {\n\trespond \"ok\"\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let adapted = await CLITests.quantum(["adapt", "--config", path])
        XCTAssertEqual(adapted.status, 0, adapted.err)
        XCTAssertTrue(adapted.out.hasPrefix(#"{"apps":{"http":{"servers":{"srv0":{"listen":[":443"]"#), adapted.out)
        let pretty = await CLITests.quantum(["adapt", "--config", path, "--pretty"])
        XCTAssertTrue(pretty.out.contains("\n\t\"apps\": {\n"), pretty.out)

        let valid = await CLITests.quantum(["validate", "--config", path])
        XCTAssertEqual(valid.status, 0, valid.err)
        XCTAssertTrue(valid.out.contains("Valid configuration"), valid.out)
        // Any name, with --adapter; without it such a file is read as JSON.
        let conf = scratch + "/site.conf"
        try FileManager.default.copyItem(atPath: path, toPath: conf)
        let named = await CLITests.quantum(["validate", "--config", conf, "--adapter", "caddyfile"])
        XCTAssertEqual(named.status, 0, named.err)
        let asJSON = await CLITests.quantum(["validate", "--config", conf])
        XCTAssertEqual(asJSON.status, 1)
        XCTAssertTrue(asJSON.err.contains("invalid JSON"), asJSON.err)
        // Caddyfile.json is JSON, as Caddy reads it.
        let json = scratch + "/Caddyfile.json"
        try #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"]}}}}}"#.write(toFile: json, atomically: true, encoding: .utf8)
        let plainJSON = await CLITests.quantum(["validate", "--config", json])
        XCTAssertEqual(plainJSON.status, 0, plainJSON.err)

        // A directive Caddy knows whose module this build lacks: adapted, then named by --validate.
        try "example.com {\n\ttemplates\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let plain = await CLITests.quantum(["adapt", "--config", path])
        XCTAssertEqual(plain.status, 0, plain.err)
        XCTAssertTrue(plain.out.contains(#""handler":"templates""#), plain.out)
        let validated = await CLITests.quantum(["adapt", "--config", path, "--validate"])
        XCTAssertEqual(validated.status, 1)
        XCTAssertTrue(validated.err.contains("templates"), validated.err)

        let unknown = await CLITests.quantum(["adapt", "--config", path, "--adapter", "yaml"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.contains("unrecognized config adapter: yaml"), unknown.err)

        try "example.com{\nrespond   \"ok\"\n}".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)  // a Caddyfile holding secrets stays private
        let diff = await CLITests.quantum(["fmt", "--diff", path])
        XCTAssertEqual(diff.status, 0, "as caddy fmt --diff")
        XCTAssertTrue(diff.out.contains("- respond   \"ok\"") && diff.out.contains("+ \trespond \"ok\""), diff.out)
        let overwrite = await CLITests.quantum(["fmt", "--overwrite", path])
        XCTAssertEqual(overwrite.status, 0)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "example.com {\n\trespond \"ok\"\n}\n")
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode, 0o600, "the mode is kept")
        let clean = await CLITests.quantum(["fmt", "--diff", path])
        XCTAssertEqual(clean.status, 0)
        XCTAssertEqual(clean.out, "", "nothing to change")
    }

    func testAdaptErrorsNameTheLine() async throws {
        let path = scratch + "/Caddyfile"
        try "example.com {\n\troot * /srv\n\n\tfle_server\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = await CLITests.quantum(["adapt", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("\(path):4: unrecognized directive: fle_server"), result.err)
        let run = await CLITests.quantum(["validate", "--config", path])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.err.contains("adapting config using caddyfile: \(path):4: unrecognized directive: fle_server"), run.err)
    }

    func testNamedRoutesRunWhereInvoked() async throws {
        let port = try freeTCPPort()
        let text = """
        &(greet) {
        \t@loud query loud=1
        \theader @loud X-Loud yes
        \trespond "hello from a named route"
        }

        http://127.0.0.1:\(port) {
        \tbind 127.0.0.1
        \tinvoke greet
        }

        """
        let config = try CaddyfileAdapter.adapt(text, environment: { _ in nil }).config
        let server = try await TestServer.start(config.serialized)
        let result = runProcess("curl", ["-s", "-i", "http://127.0.0.1:\(port)/?loud=1"])
        XCTAssertTrue(result.output.hasSuffix("hello from a named route"), result.output)
        XCTAssertTrue(result.output.lowercased().contains("x-loud: yes"), result.output)
        await server.stop()
    }

    func testForwardAuthFromACaddyfile() async throws {
        let auth = try await TestServer.start(routes: """
        [{"match": [{"path": ["/verify"]}, {"method": ["GET"]}], "handle": [{"handler": "subroute", "routes": [
            {"match": [{"header": {"Authorization": ["Bearer good"]}}], "handle": [{"handler": "static_response",
                "headers": {"X-User": ["alice"]}, "body": "ok"}], "terminal": true},
            {"handle": [{"handler": "static_response", "status_code": 401, "body": "who are you?"}]}]}]}]
        """)
        let port = try freeTCPPort()
        let text = """
        http://127.0.0.1:\(port) {
        \tbind 127.0.0.1
        \tforward_auth 127.0.0.1:\(auth.port) {
        \t\turi /verify
        \t\tcopy_headers X-User
        \t}
        \trespond "hello {header.X-User}"
        }

        """
        let server = try await TestServer.start(try CaddyfileAdapter.adapt(text, environment: { _ in nil }).config.serialized)
        let allowed = runProcess("curl", ["-s", "-H", "Authorization: Bearer good", "-X", "POST", "http://127.0.0.1:\(port)/app"])
        XCTAssertEqual(allowed.output, "hello alice")
        let refused = runProcess("curl", ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/app"])
        XCTAssertEqual(refused.output, "who are you? 401")
        await server.stop()
        await auth.stop()
    }
}
