import Foundation
import Glibc
@testable import Quantum
import QuantumCore
import QuantumTestSupport
import XCTest

/// `quantum run` with no config: loopback only unless told, a token on the sync site once it is
/// reachable from elsewhere, a welcome page rather than the working directory's listing.
final class DefaultSitesTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "quantum-default-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try "secret".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    func sites(listen: String? = nil) throws -> DefaultSites {
        try DefaultSites(workingDirectory: directory, listen: listen, filesPort: try freeTCPPort(), syncPort: try freeTCPPort(),
                         dataDirectory: directory + "/data")
    }

    /// `curl`'s status code and body for `url`.
    func get(_ url: String, _ headers: [String] = []) -> (status: Int, body: String) {
        let result = runProcess("curl", ["-s", "--max-time", "5", "-w", "\n%{http_code}"] + headers.flatMap { ["-H", $0] } + [url])
        let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func testLoopbackOnlyWithAWelcomePageAndNoListingOfTheWorkingDirectory() async throws {
        let sites = try sites()
        XCTAssertEqual(sites.hosts.first, "127.0.0.1")
        XCTAssertTrue(sites.hosts.allSatisfy { $0 == "127.0.0.1" || $0 == "::1" }, "\(sites.hosts)")
        XCTAssertNil(sites.token, "no token on loopback")
        XCTAssertFalse(FileIO.exists(directory + "/data/sync-token"))
        let server = try await TestServer.start(sites.json())
        let page = get("http://127.0.0.1:\(sites.filesPort)/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("Quantum is running"), page.body)
        XCTAssertTrue(page.body.contains("quantum run --listen 0.0.0.0"))
        XCTAssertFalse(page.body.contains("notes.txt"), "the working directory is not listed")
        XCTAssertFalse(get("http://127.0.0.1:\(sites.filesPort)/notes.txt").body.contains("secret"), "nor served")
        XCTAssertEqual(get("http://127.0.0.1:\(sites.syncPort)/api/list").status, 200, "loopback needs no token")
        if sites.hosts.contains("::1") {
            XCTAssertEqual(get("http://[::1]:\(sites.filesPort)/").status, 200)
        }
        // DNS rebinding: a page whose name was pointed at 127.0.0.1 does not reach the folders.
        for port in [sites.filesPort, sites.syncPort] {
            XCTAssertEqual(get("http://127.0.0.1:\(port)/api/list", ["Host: rebound.example"]).status, 421)
            XCTAssertEqual(get("http://127.0.0.1:\(port)/", ["Host: localhost:\(port)"]).status, 200)
        }
        if let outside = Self.nonLoopbackAddress() {
            XCTAssertEqual(get("http://\(outside):\(sites.filesPort)/").status, 0, "\(outside) must not reach the default sites")
            XCTAssertEqual(get("http://\(outside):\(sites.syncPort)/api/list").status, 0)
        }
        await server.stop()
        let lines = sites.announcement()
        XCTAssertTrue(lines[0].contains("loopback"), lines[0])
        XCTAssertTrue(lines.contains { $0.contains("http://127.0.0.1:\(sites.filesPort)/") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("http://127.0.0.1:\(sites.syncPort)/") }, "\(lines)")
    }

    func testAPublicFolderIsServed() async throws {
        try FileManager.default.createDirectory(atPath: directory + "/public", withIntermediateDirectories: true)
        try "hello from public".write(toFile: directory + "/public/index.html", atomically: true, encoding: .utf8)
        let sites = try sites()
        let server = try await TestServer.start(sites.json())
        XCTAssertEqual(get("http://127.0.0.1:\(sites.filesPort)/").body, "hello from public")
        XCTAssertEqual(get("http://127.0.0.1:\(sites.filesPort)/notes.txt").status, 404)
        await server.stop()
    }

    func testListeningBeyondLoopbackNeedsTheTokenKeptOwnerOnly() async throws {
        let sites = try sites(listen: "0.0.0.0")
        XCTAssertEqual(sites.hosts, ["0.0.0.0"])
        let token = try XCTUnwrap(sites.token)
        XCTAssertTrue(token.isNew)
        XCTAssertGreaterThanOrEqual(token.value.count, 32)
        var info = stat()
        XCTAssertEqual(stat(directory + "/data/sync-token", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600, "owner-only")
        let lines = sites.announcement()
        XCTAssertTrue(lines.contains { $0.contains(":\(sites.syncPort)/#token=\(token.value)") }, "shown once, in the fragment: \(lines)")

        let server = try await TestServer.start(sites.json())
        let host = Self.nonLoopbackAddress() ?? "127.0.0.1"
        XCTAssertEqual(get("http://\(host):\(sites.filesPort)/").status, 200, "reachable on \(host)")
        XCTAssertEqual(get("http://\(host):\(sites.syncPort)/api/list").status, 401, "no token, no files")
        XCTAssertEqual(get("http://\(host):\(sites.syncPort)/api/list", ["Authorization: Bearer wrong-token-value"]).status, 401)
        XCTAssertEqual(get("http://\(host):\(sites.syncPort)/api/list", ["Authorization: Bearer \(token.value)"]).status, 200)
        await server.stop()

        // The next start keeps the token and does not show it again.
        let again = try self.sites(listen: "0.0.0.0")
        XCTAssertEqual(again.token?.value, token.value)
        XCTAssertEqual(again.token?.isNew, false)
        XCTAssertFalse(again.announcement().joined().contains(token.value))
    }

    func testListenIsAHostWithoutAPort() throws {
        XCTAssertEqual(try sites(listen: "[::1]").hosts, ["::1"])
        XCTAssertNil(try sites(listen: "localhost").token, "loopback by name needs no token")
        for bad in ["127.0.0.1:80", "", "a b", "http://x"] {
            XCTAssertThrowsError(try sites(listen: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--listen takes a host without a port"), "\(error)")
            }
        }
    }

    func testATokenFileThatHoldsNoTokenIsReportedNotReplaced() throws {
        try "\n".write(toFile: directory + "/data/sync-token", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try sites(listen: "0.0.0.0")) { error in
            XCTAssertTrue("\(error)".contains("does not hold a token"), "\(error)")
        }
    }

    func testListenIsRefusedWithAConfig() async throws {
        let (status, _, err) = await CLITests.quantum(["run", "--config", "site.json", "--listen", "0.0.0.0"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(err.contains("--listen rebinds the built-in default sites"), err)
    }

    /// An IPv4 address of this machine other than loopback (nil when it has none).
    static func nonLoopbackAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let raw = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            let ip = [24, 16, 8, 0].map { String((raw >> $0) & 255) }.joined(separator: ".")
            if !ip.hasPrefix("127.") { return ip }
        }
        return nil
    }
}
