import Foundation
import Glibc
import QuantumTestSupport
import XCTest

/// `quantum file-server` as users run it: the built binary as a child process, then SIGTERM.
final class FileServerCommandTests: FileServerTestCase {
    static let binary = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/quantum").path

    /// Starts `quantum file-server <arguments>`, waits until `probe` answers, runs `body`, then
    /// sends SIGTERM and checks a clean exit.
    /// With `asUser`, runs it through `setpriv` as that uid/gid (needs root).
    func withCommand(_ arguments: [String], port: Int, probe: String, asUser: Int? = nil, _ body: () throws -> Void) throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "no built binary at \(Self.binary)")
        let process = Process()
        if let uid = asUser {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", Self.binary, "file-server"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["file-server"] + arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: tree.base)
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        var up = false
        for _ in 0..<100 where process.isRunning {
            if runProcess("curl", ["-s", "-o", "/dev/null", "--max-time", "2", "http://127.0.0.1:\(port)\(probe)"]).status == 0 { up = true; break }
            usleep(100_000)
        }
        XCTAssertTrue(up, "quantum file-server did not answer on port \(port)")
        if up { try body() }

        let log = stopCleanly(process, stderr: stderr)
        XCTAssertFalse(log.contains("fatal") || log.contains("Fatal"), log)
    }

    func testFileServerWithBrowse() throws {
        try tree.file("hello.txt", "hello from the CLI")
        try tree.file("docs/guide.md", "# guide")
        let port = try freeTCPPort()
        try withCommand(["--root", tree.root, "--listen", "127.0.0.1:\(port)", "--browse"], port: port, probe: "/hello.txt") {
            let file = Self.curl(port, "/hello.txt")
            XCTAssertEqual(file.text, "hello from the CLI")
            XCTAssertEqual(file.header("Content-Type"), "text/plain; charset=utf-8")
            let listing = Self.curl(port, "/", ["-H", "Accept: application/json"])
            XCTAssertEqual(listing.status, 200)
            let names = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(listing.body)) as? [[String: Any]]).compactMap { $0["name"] as? String }
            XCTAssertEqual(Set(names), ["hello.txt", "docs/"])
            XCTAssertTrue(Self.curl(port, "/docs/").text.contains("guide.md"))
            XCTAssertEqual(Self.curl(port, "/../outside/secret.txt").status, 404)
        }
    }

    func testFileServerWithoutBrowseAndARelativeRoot() throws {
        try tree.file("site.txt", "relative root")
        try tree.directory("empty")
        let port = try freeTCPPort()
        // The root is relative to the working directory (the tree's base here).
        try withCommand(["--root", "root", "--listen=127.0.0.1:\(port)"], port: port, probe: "/site.txt") {
            XCTAssertEqual(Self.curl(port, "/site.txt").text, "relative root")
            XCTAssertEqual(Self.curl(port, "/empty/").status, 404, "no listing without --browse")
        }
    }

    func testFileServerWithPrecompressed() throws {
        try XCTSkipUnless(Self.haveTool("gzip"), "gzip is not installed")
        let text = String(repeating: "compress me please\n", count: 100)
        let path = try tree.file("big.txt", text)
        XCTAssertEqual(runProcess("gzip", ["-k", path]).status, 0)
        let port = try freeTCPPort()
        try withCommand(["--root", tree.root, "--listen", "127.0.0.1:\(port)", "--precompressed"], port: port, probe: "/big.txt") {
            let r = Self.curl(port, "/big.txt", ["-H", "Accept-Encoding: gzip"])
            XCTAssertEqual(r.header("Content-Encoding"), "gzip")
            XCTAssertEqual(r.header("Vary"), "Accept-Encoding")
            XCTAssertEqual(r.body.count, tree.size("big.txt.gz"))
            XCTAssertEqual(Self.curl(port, "/big.txt", ["--compressed"]).text, text, "curl decodes it back")
        }
    }

    func testUnreadableFilesAre403ForAnUnprivilegedServer() throws {
        // Root reads everything, so the 403 path needs a server running as someone else.
        try XCTSkipUnless(getuid() == 0, "BasicServingTests covers this when not root")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "no setpriv")
        XCTAssertEqual(chmod(tree.base, 0o755), 0)  // mkdtemp made it private
        try tree.file("open.txt", "readable")
        XCTAssertEqual(chmod(try tree.file("locked.txt", "private"), 0), 0)
        try tree.file("closed/inside.txt", "x")
        XCTAssertEqual(chmod(tree.root + "/closed", 0), 0)
        let port = try freeTCPPort()
        try withCommand(["--root", tree.root, "--listen", "127.0.0.1:\(port)", "--browse"], port: port, probe: "/open.txt", asUser: 65534) {
            XCTAssertEqual(Self.curl(port, "/open.txt").text, "readable")
            let locked = Self.curl(port, "/locked.txt")
            XCTAssertEqual(locked.status, 403)
            XCTAssertFalse(locked.text.contains("private"))
            XCTAssertEqual(Self.curl(port, "/closed/").status, 403, "a folder it cannot read")
            XCTAssertEqual(Self.curl(port, "/closed/inside.txt").status, 403, "a file in a folder it cannot search")
            XCTAssertEqual(Self.curl(port, "/open.txt").status, 200, "and it keeps serving")
        }
    }
}
