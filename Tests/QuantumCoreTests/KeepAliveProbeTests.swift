import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `keepalive_interval` turns on TCP keep-alive probes on accepted connections (seen with `ss`).
final class KeepAliveProbeTests: XCTestCase {
    func timers(port: Int) -> String {
        runProcess("ss", ["-tnoH", "state", "established", "( sport = :\(port) )"]).output
    }

    func connectAndRequest(_ port: Int) throws -> RawClient {
        let client = try RawClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        return client
    }

    func testProbesAreOnByDefaultAndFollowTheInterval() async throws {
        try XCTSkipIf(runProcess("ss", ["-V"]).status != 0, "ss (iproute2) is not installed")
        let server = try await TestServer.start(routes: "[]", serverFields: #""keepalive_interval": "7s""#)
        let client = try connectAndRequest(server.port)
        let out = timers(port: server.port)
        XCTAssertTrue(out.contains("timer:(keepalive"), out)
        // The first probe is due within the interval.
        XCTAssertNil(out.range(of: #"keepalive,(8|9|[1-9][0-9])"#, options: .regularExpression), out)
        _ = client
        await server.stop()
    }

    func testANegativeIntervalTurnsProbesOff() async throws {
        try XCTSkipIf(runProcess("ss", ["-V"]).status != 0, "ss (iproute2) is not installed")
        let server = try await TestServer.start(routes: "[]", serverFields: #""keepalive_interval": "-1s""#)
        let client = try connectAndRequest(server.port)
        let out = timers(port: server.port)
        XCTAssertFalse(out.isEmpty, "the connection is listed")
        XCTAssertFalse(out.contains("keepalive"), out)
        _ = client
        await server.stop()
    }
}
