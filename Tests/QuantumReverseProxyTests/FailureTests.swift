import Quantum
import QuantumTestSupport
import XCTest

/// Retries and the 502/503/504 mapping, with placeholders for error routes.
final class FailureTests: XCTestCase {
    func testRefusedUpstreamIs502() async throws {
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(try freeTCPPort())"}]"#)
        XCTAssertEqual(try get(proxy.port).status, 502)
        await proxy.stop()
    }

    func testResponseHeaderTimeoutIs504() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]) + #", "transport": {"protocol": "http", "response_header_timeout": "100ms"}"#)
        XCTAssertEqual(try get(proxy.port, "/hold").status, 504)
        XCTAssertEqual(try get(proxy.port, "/").status, 200, "the next request gets a fresh connection")
        await proxy.stop(); await upstream.stop()
    }

    func testNoAvailableUpstreamIs503() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(upstream.port)", "max_requests": 1}]"#)
        let port = proxy.port
        let held = Task.detached { try get(port, "/hold").status }
        usleep(150_000)
        XCTAssertEqual(try get(port).status, 503, "the only upstream is at max_requests")
        let heldStatus = try await held.value
        XCTAssertEqual(heldStatus, 200)
        XCTAssertEqual(try get(port).status, 200)
        await proxy.stop(); await upstream.stop()
    }

    func testRetriesMoveADialFailureToTheNextUpstream() async throws {
        let upstream = try await startUpstream("B")
        let ups = #""upstreams": [{"dial": "127.0.0.1:\#(try freeTCPPort())"}, {"dial": "127.0.0.1:\#(upstream.port)"}]"#
        let without = try await startProxy(ups + #", "load_balancing": {"selection_policy": {"policy": "round_robin"}}"#)
        let statuses = try (0..<4).map { _ in try get(without.port).status }
        XCTAssertEqual(statuses.filter { $0 == 502 }.count, 2, "no retries: every other request fails")
        await without.stop()

        let with = try await startProxy(ups + #", "load_balancing": {"selection_policy": {"policy": "round_robin"}, "retries": 2}"#)
        for _ in 0..<6 {
            let r = try get(with.port, "/", method: "POST")
            XCTAssertEqual(r.status, 200, "a dial error is retried whatever the method")
            XCTAssertEqual(r.bodyText, "B")
        }
        await with.stop(); await upstream.stop()
    }

    func testTryDurationWaitsForAnUpstream() async throws {
        let dead = try freeTCPPort()
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(dead)"}], "load_balancing": {"try_duration": "400ms", "try_interval": "100ms"}"#)
        let start = SystemClock.monotonicNanos()
        XCTAssertEqual(try get(proxy.port).status, 502)
        let elapsed = Double(SystemClock.monotonicNanos() - start) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.35, "kept trying for try_duration")
        await proxy.stop()
    }

    func testErrorRoutesSeeProxyPlaceholders() async throws {
        let dead = try freeTCPPort()
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(dead)"}]"#, errors: """
        [{"handle": [{"handler": "static_response", "body": "{http.error.status_code} from {http.reverse_proxy.upstream.hostport}"}]}]
        """)
        let r = try get(proxy.port)
        XCTAssertEqual(r.status, 502)
        XCTAssertEqual(r.bodyText, "502 from 127.0.0.1:\(dead)")
        await proxy.stop()
    }

    func testPOSTIsNotRetriedAfterReachingAnUpstream() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]) + #", "transport": {"protocol": "http", "response_header_timeout": "100ms"}, "load_balancing": {"retries": 3}"#)
        let start = SystemClock.monotonicNanos()
        XCTAssertEqual(try get(proxy.port, "/hold", method: "POST").status, 504)
        XCTAssertLessThan(Double(SystemClock.monotonicNanos() - start) / 1e9, 0.35, "one attempt only")
        await proxy.stop(); await upstream.stop()
    }

    func testRetryMatchAllowsRetryingOtherMethods() async throws {
        // The first upstream reads each request and hangs up without answering: a failure after
        // the request was sent, which only GET/HEAD or a retry_match may retry.
        let hangUp = CannedUpstream("")
        let b = try await startUpstream("RB")
        let fields = #""upstreams": [{"dial": "127.0.0.1:\#(hangUp.port)"}, {"dial": "127.0.0.1:\#(b.port)"}], "load_balancing": {"selection_policy": {"policy": "first"}, "retries": 1, "retry_match": [{"method": ["DELETE"]}]}, "health_checks": {"passive": {"fail_duration": "300ms", "max_fails": 1}}"#
        let proxy = try await startProxy(fields)
        let deleted = try get(proxy.port, "/", method: "DELETE")
        XCTAssertEqual(deleted.status, 200)
        XCTAssertEqual(deleted.bodyText, "RB", "DELETE matches retry_match: retried on the next upstream")
        usleep(400_000)  // the hang-up upstream's failure expires
        XCTAssertEqual(try get(proxy.port, "/", method: "PUT").status, 502, "PUT does not match retry_match: not retried")
        usleep(400_000)
        XCTAssertEqual(try get(proxy.port, "/").bodyText, "RB", "GET is retried by default")
        await proxy.stop(); await b.stop(); hangUp.stop()
    }

    /// An upstream answer whose body breaks at once (a chunk size that overflows 64 bits):
    /// nothing of it has reached the client yet, so the client gets a 502, not a connection cut
    /// without a word. Through the deferred path (GET) and the task path (DELETE).
    func testBodyThatBreaksBeforeAnythingWasSentIs502() async throws {
        let broken = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"
        for request in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"] {
            let raw = try await rawThroughProxy(to: CannedUpstream(broken), request)
            XCTAssertTrue(raw.hasPrefix("HTTP/1.1 502 "), "\(request.prefix(4)): \(raw)")
            XCTAssertTrue(raw.contains("Connection: close"), raw)
        }
    }

    /// A client that gives up on an upstream that never answers (its FIN, or a reset) leaves no
    /// upstream connection behind, through the task path (a first, dialed request; a DELETE)
    /// and the deferred path (a GET on a pooled connection). Caddy closes them at once; they
    /// stayed open for good before.
    func testClientsThatLeaveLeaveNoUpstreamConnectionBehind() async throws {
        let upstream = try SilentUpstream(answers: 1)
        defer { upstream.stop() }
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(upstream.port)"}]"#)
        defer { Task { await proxy.stop() } }
        // (A GET first finds the connection the first answer pooled: the deferred path; its
        // connection is then closed, so the next requests dial: the task path.)
        XCTAssertEqual(try get(proxy.port).status, 200, "the first answer pools the connection")
        for request in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n",
                        "GET /again HTTP/1.1\r\nHost: x\r\n\r\n"] {
            for reset in [false, true] {
                let label = "\(request.prefix(while: { $0 != "\r" })) \(reset ? "reset" : "FIN")"
                do {
                    let client = try RawClient(port: proxy.port)
                    client.send(request)
                    XCTAssertTrue(eventually { upstream.waitingConnections == 1 }, "\(label): never reached the upstream")
                    if reset {
                        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                        setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    }
                }  // the client closes here
                XCTAssertTrue(eventually { upstream.waitingConnections == 0 },
                              "\(label): the upstream connection outlived its client")
            }
        }
        // The FIN in the same write as the request: the client has left before the proxy starts.
        for request in ["DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"] {
            let client = try RawClient(port: proxy.port)
            client.send(request)
            client.shutdownWrite()
            usleep(300_000)
            XCTAssertTrue(eventually { upstream.waitingConnections == 0 }, "\(request.prefix(6)) with its FIN: an upstream connection held")
        }
    }
}
