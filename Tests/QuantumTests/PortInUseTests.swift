import Foundation
import Quantum
import QuantumCore
import QuantumTestSupport
import XCTest

/// A port something else listens on is refused, as Caddy refuses it: the loops' sockets share
/// ports through SO_REUSEPORT, which must not let a second instance quietly take half the traffic.
final class PortInUseTests: XCTestCase {
    func config(_ port: Int, body: String) throws -> LoadedConfig {
        try ConfigLoader.load(json: Array("""
        {"admin": {"disabled": true}, "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\(port)"], "automatic_https": {"disable": true},
          "routes": [{"handle": [{"handler": "static_response", "body": "\(body)"}]}]}}}}}
        """.utf8), registry: StandardModules.registry)
    }

    func testASecondInstanceOnTheSamePortFailsToStart() async throws {
        let port = freePort()
        let first = Instance(group: try EventLoopGroup(loopCount: 2))
        try await first.start(try config(port, body: "first"))
        let second = Instance(group: try EventLoopGroup(loopCount: 2))
        do {
            try await second.start(try config(port, body: "second"))
            XCTFail("the second instance started on a port the first holds")
        } catch {
            XCTAssertTrue("\(error)".contains("127.0.0.1:\(port)"), "\(error)")
            XCTAssertTrue("\(error)".contains("something else is listening there"), "\(error)")
        }
        // Every connection still reaches the first.
        for _ in 0..<20 { XCTAssertEqual(runProcess("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"]).output, "first") }
        second.group.shutdown()

        // A reload of the first onto the same port keeps it (its own sockets are taken over).
        try await first.reload(try config(port, body: "reloaded"))
        XCTAssertEqual(runProcess("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"]).output, "reloaded")
        // And onto the same port in another form (the wildcard while the old set still holds 127.0.0.1).
        let wildcard = try ConfigLoader.load(json: Array("""
        {"admin": {"disabled": true}, "apps": {"http": {"servers": {"s": {"listen": ["0.0.0.0:\(port)"], "automatic_https": {"disable": true},
          "routes": [{"handle": [{"handler": "static_response", "body": "wildcard"}]}]}}}}}
        """.utf8), registry: StandardModules.registry)
        try await first.reload(wildcard)
        XCTAssertEqual(runProcess("curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"]).output, "wildcard")
        await first.stop(graceNanos: 0)
        first.group.shutdown()
    }

    func testAPortHeldByAnotherProgramIsRefused() async throws {
        let port = freePort()
        let holder = try Sockets.listen(SocketAddress(ip: "127.0.0.1", port: port)!, exclusive: true)
        defer { close(holder) }
        let instance = Instance(group: try EventLoopGroup(loopCount: 2))
        do {
            try await instance.start(try config(port, body: "x"))
            XCTFail("started on a taken port")
        } catch {
            XCTAssertTrue("\(error)".contains("something else is listening there"), "\(error)")
        }
        instance.group.shutdown()
    }
}
