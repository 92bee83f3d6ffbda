import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The built binary under attack, measured from `/proc` as an operator would: bounds are an
/// order of magnitude from the failure they guard against, not tight figures.
final class ResourceExhaustionTests: XCTestCase {
    static let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path

    /// Seconds of CPU (user + system) the process has used.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, so 11 and 12 here).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Open descriptors of the process.
    static func descriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// Resident memory of the process, in MiB.
    static func residentMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Double(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return 0 }
        return kib / 1024
    }

    private func config(port: Int, routes: String = #"[{"handle": [{"handler": "static_response", "body": "ok"}]}]"#,
                        fields: String = "") throws -> String {
        let path = NSTemporaryDirectory() + "quantum-exhaustion-\(UUID().uuidString).json"
        try """
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\(port)"]\(fields), "routes": \(routes)}}}}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Out of descriptors, `accept` fails while the connection stays queued: the listener must
    /// back off instead of waking again at once (two cores at 100 % before), log it once, and
    /// accept again when descriptors are free.
    func testAcceptBacksOffWhenDescriptorsRunOut() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "no built binary at \(Self.binary)")
        let port = try freeTCPPort()
        let (process, stderr) = try CLITests.launch("/usr/bin/prlimit", ["--nofile=64:64", "--", Self.binary, "run", "--config", try config(port: port)])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "ok")
        let pid = process.processIdentifier

        var clients: [RawClient] = []
        for _ in 0..<150 { clients.append(try RawClient(port: port)) }
        usleep(300_000)
        XCTAssertLessThanOrEqual(Self.descriptors(pid), 70, "the limit took effect")
        let before = Self.cpuSeconds(pid)
        sleep(3)
        let spent = Self.cpuSeconds(pid) - before
        // Spinning costs a core per loop for the whole hold (about 6 s here); backing off, a few ticks.
        XCTAssertLessThan(spent, 1.0, "CPU seconds used in 3 s while out of descriptors")

        clients.removeAll()
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/"), "ok", "accepts again once descriptors are free")
        let log = stopCleanly(process, stderr: stderr)
        // Once an episode per loop's listener: the hold is one, the backlog drained after it may
        // make a couple more on each loop — a handful, where warning per accept would be hundreds.
        let warnings = log.components(separatedBy: "pausing accepts").count - 1
        XCTAssertTrue((1...8).contains(warnings), "\(warnings) warnings: \(log)")
    }

    /// HTTP/2 rapid reset across connections (`scripts/h2_flood.py`): connections that each send
    /// 900 × (HEADERS GET /100k.bin, RST_STREAM) and close, again and again, beside a victim
    /// making one ordinary request every 100 ms. Before: GBs of memory, every descriptor, the
    /// victim timing out and the server busy for long after. Now the flood costs its senders
    /// more than the server: handlers of reset streams never start or are cancelled, and a
    /// connection whose resets run ahead of its answers is sent GOAWAY and read no further.
    func testHTTP2ResetFloodStaysBoundedAndFair() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary), "no built binary at \(Self.binary)")
        let python = "/tmp/quantum-h2-venv/bin/python"
        try XCTSkipUnless(runProcess(python, ["-c", "import h2"]).status == 0, "no Python with h2 at \(python) (scripts/deps.sh makes it)")
        let site = NSTemporaryDirectory() + "quantum-flood-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: site) }
        try Data(repeating: 0x61, count: 100 * 1024).write(to: URL(fileURLWithPath: site + "/100k.bin"))
        let port = try freeTCPPort()
        let routes = #"[{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "body": "hello"}]},"#
            + #" {"handle": [{"handler": "file_server", "root": "\#(site)"}]}]"#
        let (process, stderr) = try CLITests.launch(Self.binary, ["run", "--config", try config(port: port, routes: routes,
                                                                                         fields: #", "protocols": ["h1", "h2", "h2c"]"#)])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/hello"), "hello")

        let script = CLITests.repo.appendingPathComponent("scripts/h2_flood.py").path
        let run = runProcess(python, [script, "--port", String(port), "--pid", String(process.processIdentifier), "--seconds", "5",
                                      "--connections", "2", "--rss-limit-mb", "1500", "--json"], timeout: 90)
        let line = run.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
        let result = try XCTUnwrap(try? JSONParser.parse(line), run.output)
        func number(_ key: String) -> Double { if case .number(let n)? = result[key] { Double(n) ?? -1 } else { -1 } }
        XCTAssertGreaterThan(number("attack_requests"), 100_000, "the flood ran: \(line)")
        XCTAssertEqual(result["server_alive"], .bool(true), line)
        XCTAssertLessThan(number("peak_rss_mb"), 300, "memory stays bounded (before: 150 MB to GBs): \(line)")
        XCTAssertLessThan(number("peak_fds"), 1000, "descriptors stay bounded (before: over 1,100): \(line)")
        XCTAssertGreaterThanOrEqual(number("victim_success_ratio"), 0.5, "other clients are served (before: none): \(line)")
        XCTAssertEqual(result["post_attack_request"], .string("ok"), "answers once the flood stops (before: not for 13 s+): \(line)")
        _ = stopCleanly(process, stderr: stderr)
    }
}
