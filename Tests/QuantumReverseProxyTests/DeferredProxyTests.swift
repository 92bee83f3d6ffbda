import Quantum
import QuantumTestSupport
import XCTest

/// Requests answered from an idle pooled upstream connection without a task (the deferred
/// path): the second request on a keep-alive client connection finds the first one's upstream
/// connection idle on the same loop, so it takes that path.
final class DeferredProxyTests: XCTestCase {
    private func send(_ client: RawClient, _ target: String = "/", method: String = "GET") -> HTTPTestResponse? {
        client.send("\(method) \(target) HTTP/1.1\r\nHost: site.test\r\n\r\n")
        return client.readResponse(isHead: method == "HEAD")
    }

    func testRoundRobinAdvancesOncePerRequestWhicheverPathItTakes() async throws {
        let a = try await startUpstream("QA"), b = try await startUpstream("QB")
        let proxy = try await startProxy(upstreamsJSON([a, b]) + #", "load_balancing": {"selection_policy": {"policy": "round_robin"}}"#)
        let client = try RawClient(port: proxy.port)
        // The first request to each upstream dials (handed to the async path with its choice);
        // the later ones go out on pooled connections.
        let seen = (0..<6).map { _ in send(client)?.bodyText ?? "-" }
        XCTAssertTrue(seen == ["QA", "QB", "QA", "QB", "QA", "QB"] || seen == ["QB", "QA", "QB", "QA", "QB", "QA"], "\(seen)")
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testAFailedDeferredAttemptCountsAsTheFirstAttempt() async throws {
        let upstream = try await startUpstream("QT")
        let proxy = try await startProxy(upstreamsJSON([upstream]) + #", "transport": {"protocol": "http", "response_header_timeout": "150ms"}"#,
                                         errors: #"[{"handle": [{"handler": "static_response", "body": "{http.error.status_code} from {http.reverse_proxy.upstream.hostport}"}]}]"#)
        let client = try RawClient(port: proxy.port)
        XCTAssertEqual(send(client)?.status, 200)
        let failed = try XCTUnwrap(send(client, "/hold"))
        XCTAssertEqual(failed.status, 504)
        XCTAssertEqual(failed.bodyText, "504 from 127.0.0.1:\(upstream.port)", "error routes see the deferred attempt's upstream")
        usleep(300_000)
        XCTAssertEqual(HoldHandler.hits.withLock { $0["QT"] }, 1, "no second attempt without retries")
        await proxy.stop(); await upstream.stop()
    }

    func testTryDurationCountsFromTheDeferredAttempt() async throws {
        let upstream = try await startUpstream("QD")
        // The deferred attempt times out after 300 ms, past the 250 ms try_duration: no retry.
        let proxy = try await startProxy(upstreamsJSON([upstream]) + """
        , "transport": {"protocol": "http", "response_header_timeout": "300ms"}, "load_balancing": {"try_duration": "250ms"}
        """)
        let client = try RawClient(port: proxy.port)
        XCTAssertEqual(send(client)?.status, 200)
        XCTAssertEqual(send(client, "/hold")?.status, 504)
        usleep(300_000)
        XCTAssertEqual(HoldHandler.hits.withLock { $0["QD"] }, 1, "the try_duration had passed when the attempt failed")
        await proxy.stop(); await upstream.stop()
    }

    func testAnswersFromPooledConnectionsCarryTheSameFields() async throws {
        let upstream = CannedUpstream("HTTP/1.1 200 OK\r\nServer: canned\r\nX-Secret: s\r\nConnection: keep-alive, X-Secret\r\n"
            + "Keep-Alive: timeout=5\r\nAlt-Svc: h3=\":443\"\r\nX-Kept:  spaced value  \r\nContent-Length: 2\r\n"
            + "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nok", keepAlive: true)
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(upstream.port)"}]"#)
        let client = try RawClient(port: proxy.port)
        // The first answer comes through the task (no pooled connection yet), the second as bytes.
        let first = try XCTUnwrap(send(client)), second = try XCTUnwrap(send(client))
        for r in [first, second] {
            XCTAssertEqual(r.bodyText, "ok")
            XCTAssertNil(r.header("X-Secret"), "named by Connection")
            XCTAssertNil(r.header("Keep-Alive"))
            XCTAssertNil(r.header("Alt-Svc"))
            XCTAssertEqual(r.header("X-Kept"), "spaced value")
            XCTAssertEqual(r.headers.filter { $0.0 == "Server" }.map(\.1), ["canned"])
            XCTAssertEqual(r.headers.filter { $0.0 == "Set-Cookie" }.map(\.1), ["a=1", "b=2"])
        }
        XCTAssertEqual(first.headers.filter { $0.0 != "Date" }.map { "\($0.0): \($0.1)" },
                       second.headers.filter { $0.0 != "Date" }.map { "\($0.0): \($0.1)" })
        await proxy.stop(); upstream.stop()
    }

    func testRequestsFromEitherPathReachTheUpstreamAlike() async throws {
        let upstream = try await startUpstream("QE")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let client = try RawClient(port: proxy.port)
        func echo() -> String? {
            client.send("GET /echo HTTP/1.1\r\nHost: site.test\r\nConnection: keep-alive, X-Up\r\nX-Up: secret\r\n"
                + "Keep-Alive: 5\r\nContent-Length: 0\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n")
            return client.readResponse()?.bodyText
        }
        // The first goes out from the task (no pooled connection yet), the second from the read path.
        let first = echo(), second = echo()
        XCTAssertEqual(first, "QE|127.0.0.1|http|site.test|site.test||", "hop-by-hop and untrusted X-Forwarded-For dropped")
        XCTAssertEqual(second, first)
        await proxy.stop(); await upstream.stop()
    }

    func testAStreamedAnswerFromAPooledConnectionGoesThroughTheTask() async throws {
        let upstream = try await startUpstream("QS")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let client = try RawClient(port: proxy.port)
        XCTAssertEqual(send(client)?.bodyText, "QS")
        // 3,000,000 bytes, chunked by the upstream: more than one read, so the answer streams.
        let streamed = try XCTUnwrap(send(client, "/stream"))
        XCTAssertEqual(streamed.status, 200)
        XCTAssertEqual(streamed.body.count, 3_000_000)
        XCTAssertEqual(streamed.header("Transfer-Encoding"), "chunked")
        XCTAssertEqual(streamed.headers.filter { $0.0 == "Server" }.map(\.1), ["Quantum"], "the upstream's Server, once")
        XCTAssertEqual(send(client)?.bodyText, "QS", "the connection is still in step")
        await proxy.stop(); await upstream.stop()
    }

    func testResponseEditsBeforeTheProxyApplyToEveryAnswer() async throws {
        let upstream = try await startUpstream("QH")
        let proxy = try await TestServer.start(routes: """
        [{"handle": [{"handler": "headers", "response": {"set": {"X-Edge": ["1"]}}},
                     {"handler": "reverse_proxy", \(upstreamsJSON([upstream]))}]}]
        """, registry: proxyTestRegistry)
        let client = try RawClient(port: proxy.port)
        for _ in 0..<3 {
            let r = try XCTUnwrap(send(client))
            XCTAssertEqual(r.bodyText, "QH")
            XCTAssertEqual(r.header("X-Edge"), "1")
        }
        await proxy.stop(); await upstream.stop()
    }

    func testHEADKeepsTheUpstreamsContentLength() async throws {
        let upstream = try await startUpstream("QHEAD")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let client = try RawClient(port: proxy.port)
        XCTAssertEqual(send(client)?.bodyText, "QHEAD")
        let head = try XCTUnwrap(send(client, method: "HEAD"))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "5")
        XCTAssertEqual(send(client)?.bodyText, "QHEAD", "the connection is still in step")
        await proxy.stop(); await upstream.stop()
    }
}
