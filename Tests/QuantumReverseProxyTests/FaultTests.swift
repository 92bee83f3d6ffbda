import Quantum
import QuantumReverseProxy
import QuantumTestSupport
import Synchronization
import XCTest

/// One of three upstreams dies under load: after the health checker notices, no GET fails.
final class FaultTests: XCTestCase {
    func testKilledUpstreamUnderLoadCostsNoRequestsAfterTheHealthTransition() async throws {
        let servers = [try await startUpstream("F1"), try await startUpstream("F2"), try await startUpstream("F3")]
        let proxy = try await startProxy(upstreamsJSON(servers) + """
        , "load_balancing": {"selection_policy": {"policy": "round_robin"}},
          "health_checks": {"active": {"uri": "/health", "interval": "100ms", "timeout": "500ms"}}
        """)
        let victim = servers[1]
        let victimAddress = "127.0.0.1:\(victim.port)"
        let port = proxy.port
        let client = HTTPClient()
        let log = LoadLog()
        let isDown = { @Sendable in UpstreamState.inUse.first { $0.address == victimAddress }?.isHealthyByActiveChecks == false }
        let workers = (0..<8).map { _ in
            Task.detached {
                while !log.stop.load(ordering: .relaxed) {
                    let downAtStart = isDown()
                    var status = 0
                    if let r = try? await client.execute(ClientRequest(target: "/", headers: HTTPFields([("Host", "x")])), host: "127.0.0.1", port: port) {
                        status = (try? await r.body.collect(upTo: 1 << 16)) != nil ? r.status : -1
                    }
                    log.outcomes.withLock { $0.append((SystemClock.monotonicNanos(), status, downAtStart)) }
                }
            }
        }
        try await Task.sleep(nanoseconds: 500_000_000)
        await victim.stop()
        let markedDown = await eventuallyAsync { isDown() }
        XCTAssertTrue(markedDown, "the health checker marks the dead upstream down")
        try await Task.sleep(nanoseconds: 1_000_000_000)
        log.stop.store(true, ordering: .relaxed)
        for w in workers { await w.value }
        let all = log.outcomes.withLock { $0 }
        let after = all.filter { $0.2 }
        XCTAssertGreaterThan(after.count, 100, "load kept running after the transition")
        XCTAssertEqual(after.filter { $0.1 != 200 }.count, 0, "no failed GET once the upstream was marked down: \(Dictionary(grouping: after, by: { $0.1 }).mapValues(\.count))")
        XCTAssertGreaterThan(all.count, after.count, "load ran before the kill too")
        client.shutdown()
        await proxy.stop(); await servers[0].stop(); await servers[2].stop()
    }
}

/// What the load generator saw: per request (finished at, status, whether the victim was
/// already marked down when it started).
final class LoadLog: Sendable {
    let stop = Atomic<Bool>(false)
    let outcomes = Mutex<[(UInt64, Int, Bool)]>([])
}

func eventuallyAsync(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = SystemClock.monotonicNanos() + UInt64(seconds * 1e9)
    while SystemClock.monotonicNanos() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}
