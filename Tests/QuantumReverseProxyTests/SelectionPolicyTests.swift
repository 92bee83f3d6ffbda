import Quantum
import QuantumTestSupport
import XCTest

/// Each selection policy's distribution, through real proxied requests to three upstreams.
final class SelectionPolicyTests: XCTestCase {
    var upstreams: [TestServer] = []

    override func setUp() async throws {
        upstreams = [try await startUpstream("A"), try await startUpstream("B"), try await startUpstream("C")]
    }

    override func tearDown() async throws {
        for u in upstreams { await u.stop() }
    }

    func proxy(_ policy: String, extra: String = "") async throws -> TestServer {
        try await startProxy(#"\#(upstreamsJSON(upstreams)), "load_balancing": {"selection_policy": \#(policy)}\#(extra)"#)
    }

    func testRoundRobinCyclesInOrder() async throws {
        let proxy = try await proxy(#"{"policy": "round_robin"}"#)
        defer { Task { await proxy.stop() } }
        let seen = try bodies(proxy.port, 6)
        // The shared counter may start anywhere; the order after that is fixed.
        let start = try XCTUnwrap(["A", "B", "C"].firstIndex(of: seen[0]))
        XCTAssertEqual(seen, (0..<6).map { ["A", "B", "C"][(start + $0) % 3] })
    }

    func testFirstPicksTheFirstAvailable() async throws {
        let proxy = try await proxy(#"{"policy": "first"}"#)
        defer { Task { await proxy.stop() } }
        XCTAssertEqual(Set(try bodies(proxy.port, 5)), ["A"])
    }

    func testWeightedRoundRobinFollowsWeights() async throws {
        let proxy = try await proxy(#"{"policy": "weighted_round_robin", "weights": [3, 1, 0]}"#)
        defer { Task { await proxy.stop() } }
        let seen = try bodies(proxy.port, 8)
        XCTAssertEqual(seen.filter { $0 == "A" }.count, 6)
        XCTAssertEqual(seen.filter { $0 == "B" }.count, 2)
        XCTAssertFalse(seen.contains("C"))
    }

    func testRandomReachesEveryUpstream() async throws {
        let proxy = try await proxy(#"{"policy": "random"}"#)
        defer { Task { await proxy.stop() } }
        XCTAssertEqual(Set(try bodies(proxy.port, 60)), ["A", "B", "C"])
    }

    func testHashPoliciesAreSticky() async throws {
        for (policy, headers, targets) in [
            (#"{"policy": "uri_hash"}"#, [(String, String)](), ["/a", "/b", "/c", "/d", "/e", "/f"]),
            (#"{"policy": "header", "field": "X-User"}"#, [("X-User", "alice")], ["/"]),
            (#"{"policy": "query", "key": "user"}"#, [], ["/?user=bob", "/?user=carol", "/?user=dave"]),
            (#"{"policy": "ip_hash"}"#, [], ["/"]),
            (#"{"policy": "client_ip_hash"}"#, [], ["/"]),
        ] {
            let proxy = try await proxy(policy)
            for target in targets {
                let seen = Set(try bodies(proxy.port, 5, target, headers: headers))
                XCTAssertEqual(seen.count, 1, "\(policy) \(target) went to \(seen)")
            }
            await proxy.stop()
        }
    }

    func testURIHashSpreadsDifferentKeys() async throws {
        let proxy = try await proxy(#"{"policy": "uri_hash"}"#)
        defer { Task { await proxy.stop() } }
        let seen = Set(try (0..<40).map { try get(proxy.port, "/item/\($0)").bodyText })
        XCTAssertEqual(seen, ["A", "B", "C"])
    }

    func testHeaderPolicyFallsBackWithoutTheHeader() async throws {
        let proxy = try await proxy(#"{"policy": "header", "field": "X-User", "fallback": {"policy": "first"}}"#)
        defer { Task { await proxy.stop() } }
        XCTAssertEqual(Set(try bodies(proxy.port, 4)), ["A"])
    }

    func testCookiePolicySetsAStickyCookie() async throws {
        let proxy = try await proxy(#"{"policy": "cookie", "name": "sticky", "secret": "s3cret"}"#)
        defer { Task { await proxy.stop() } }
        let first = try get(proxy.port)
        let cookie = try XCTUnwrap(first.header("Set-Cookie"))
        XCTAssertTrue(cookie.hasPrefix("sticky="), cookie)
        XCTAssertTrue(cookie.contains("Path=/"), cookie)
        let value = String(cookie.split(separator: ";")[0])
        // The value is the HMAC of the chosen upstream, not its address.
        XCTAssertFalse(value.contains("127.0.0.1"))
        for _ in 0..<6 {
            let again = try get(proxy.port, headers: [("Cookie", value)])
            XCTAssertEqual(again.bodyText, first.bodyText)
            XCTAssertNil(again.header("Set-Cookie"), "a valid cookie is not set again")
        }
    }

    func testLeastConnAvoidsBusyUpstreams() async throws {
        let proxy = try await proxy(#"{"policy": "least_conn"}"#)
        defer { Task { await proxy.stop() } }
        // Two long requests occupy two upstreams; the next short one goes to the third. The
        // second is sent once the first is counted: two requests choosing at the same instant on
        // two loops may both see the same upstream idle (as in Caddy, choosing and counting are
        // not one atomic step).
        let port = proxy.port
        var held: [Task<String, any Error>] = []
        for _ in 0..<2 {
            held.append(Task.detached { try get(port, "/hold").bodyText })
            usleep(100_000)
        }
        usleep(50_000)
        let free = try get(port).bodyText
        let busy = try await [held[0].value, held[1].value]
        XCTAssertEqual(Set(busy).count, 2, "the two held requests went to different upstreams")
        XCTAssertFalse(busy.contains(free), "\(free) was busy")
    }

    func testRandomChooseAvoidsTheBusiest() async throws {
        let proxy = try await proxy(#"{"policy": "random_choose", "choose": 3}"#)
        defer { Task { await proxy.stop() } }
        let port = proxy.port
        let held = Task.detached { try get(port, "/hold").bodyText }
        usleep(150_000)
        let others = try bodies(port, 6)
        let busy = try await held.value
        XCTAssertFalse(others.contains(busy), "choosing among all three never picks the busy one")
    }

    func testPolicyConfigErrors() async throws {
        func loadError(_ policy: String, upstreamCount: Int = 3) -> String {
            let ups = (0..<upstreamCount).map { #"{"dial": "127.0.0.1:\#(9000 + $0)"}"# }.joined(separator: ", ")
            let json = #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "reverse_proxy", "upstreams": [\#(ups)], "load_balancing": {"selection_policy": \#(policy)}}]}]}}}}}"#
            do { _ = try ConfigLoader.load(json: json, registry: proxyTestRegistry); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(loadError(#"{"policy": "fastest"}"#).contains("unknown selection policy \"fastest\"; known: client_ip_hash"))
        XCTAssertTrue(loadError(#"{"policy": "round_robin", "choose": 2}"#).contains("\"choose\" does not apply"))
        XCTAssertTrue(loadError(#"{"policy": "weighted_round_robin", "weights": [1, 2]}"#).contains("one weight per upstream"))
        XCTAssertTrue(loadError(#"{"policy": "query"}"#).contains("needs a key"))
        XCTAssertTrue(loadError(#"{"policy": "random", "bogus": 1}"#).contains("bogus"))
        XCTAssertEqual(loadError(#"{"policy": "cookie", "name": "lb", "max_age": "1h", "fallback": {"policy": "first"}}"#), "")
    }
}
