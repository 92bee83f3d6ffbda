import Quantum
import QuantumTestSupport
import XCTest

/// Active and passive health checks move upstreams out of rotation and back.
final class HealthCheckTests: XCTestCase {
    func testActiveCheckTakesAnUpstreamDownAndBackUp() async throws {
        let a = try await startUpstream("HA"), b = try await startUpstream("HB")
        TestSwitch.set("HA", 200)
        let proxy = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"active": {"uri": "/health", "interval": "100ms", "timeout": "1s", "fails": 2, "passes": 2}}
        """)
        XCTAssertEqual(try get(proxy.port).bodyText, "HA")
        TestSwitch.set("HA", 503)
        XCTAssertTrue(try eventually { try get(proxy.port).bodyText == "HB" }, "HA marked down after failed probes")
        XCTAssertEqual(Set(try bodies(proxy.port, 5)), ["HB"])
        TestSwitch.set("HA", 200)
        XCTAssertTrue(try eventually { try get(proxy.port).bodyText == "HA" }, "HA back after passing probes")
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testActiveVerdictEndsWithTheLastCheckerOfAnAddress() async throws {
        let a = try await startUpstream("RA"), b = try await startUpstream("RB")
        TestSwitch.set("RA", 503)
        let checked = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"active": {"uri": "/health", "interval": "100ms"}}
        """)
        let unchecked = try await startProxy(upstreamsJSON([a, b]) + #", "load_balancing": {"selection_policy": {"policy": "first"}}"#)
        XCTAssertTrue(try eventually { try get(unchecked.port).bodyText == "RB" }, "the shared active verdict takes RA down")
        await checked.stop()
        XCTAssertEqual(try get(unchecked.port).bodyText, "RA", "nobody probes RA any more: it is healthy again")
        TestSwitch.set("RA", 200)
        await unchecked.stop(); await a.stop(); await b.stop()
    }

    func testExpectStatusAndBody() async throws {
        let a = try await startUpstream("EA"), b = try await startUpstream("EB")
        // EA's /health body is "EA": an expect_body of "^EB$" fails it; EB passes.
        let proxy = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"active": {"uri": "/health", "interval": "100ms", "expect_status": 2, "expect_body": "^EB$"}}
        """)
        XCTAssertTrue(try eventually { try get(proxy.port).bodyText == "EB" })
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testActiveCheckOnADeadUpstream() async throws {
        let b = try await startUpstream("DB")
        let dead = try freeTCPPort()
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(dead)"}, {"dial": "127.0.0.1:\#(b.port)"}], "load_balancing": {"selection_policy": {"policy": "round_robin"}}, "health_checks": {"active": {"uri": "/health", "interval": "100ms"}}"#)
        XCTAssertTrue(try eventually { try (0..<4).allSatisfy { _ in try get(proxy.port).status == 200 } })
        await proxy.stop(); await b.stop()
    }

    func testPassiveFailuresExpireAfterFailDuration() async throws {
        let a = try await startUpstream("PA"), b = try await startUpstream("PB")
        let proxy = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"passive": {"fail_duration": "700ms", "max_fails": 2, "unhealthy_status": [500]}}
        """)
        XCTAssertEqual(try get(proxy.port, "/fail").bodyText, "PA")
        XCTAssertEqual(try get(proxy.port, "/fail").bodyText, "PA", "one failure is under max_fails")
        XCTAssertEqual(try get(proxy.port).bodyText, "PB", "two failures: PA is down")
        XCTAssertTrue(try eventually(3) { try get(proxy.port).bodyText == "PA" }, "PA back once its failures expired")
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testPassiveLatencyAndRequestCount() async throws {
        let a = try await startUpstream("LA"), b = try await startUpstream("LB")
        let proxy = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"passive": {"fail_duration": "5s", "unhealthy_latency": "200ms", "unhealthy_request_count": 1}}
        """)
        let port = proxy.port
        let held = Task.detached { try get(port, "/hold").bodyText }
        usleep(150_000)
        XCTAssertEqual(try get(port).bodyText, "LB", "LA has unhealthy_request_count requests in flight")
        let heldBody = try await held.value
        XCTAssertEqual(heldBody, "LA")
        XCTAssertEqual(try get(port).bodyText, "LB", "LA answered slower than unhealthy_latency")
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testHealthStateIsSharedByHandlersNamingTheSameUpstream() async throws {
        let a = try await startUpstream("SA"), b = try await startUpstream("SB")
        let first = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}},
          "health_checks": {"passive": {"fail_duration": "5s", "max_fails": 1, "unhealthy_status": [500]}}
        """)
        let second = try await startProxy(upstreamsJSON([a, b]) + """
        , "load_balancing": {"selection_policy": {"policy": "first"}}, "health_checks": {"passive": {"fail_duration": "5s", "max_fails": 1}}
        """)
        XCTAssertEqual(try get(first.port, "/fail").bodyText, "SA")
        XCTAssertEqual(try get(second.port).bodyText, "SB", "the failure counted through one handler marks SA down for the other")
        await first.stop(); await second.stop(); await a.stop(); await b.stop()
    }
}
