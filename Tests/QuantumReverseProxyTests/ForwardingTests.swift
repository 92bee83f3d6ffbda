import Quantum
import QuantumTestSupport
import XCTest

/// What reaches the upstream and what comes back: Caddy's forwarding rules.
final class ForwardingTests: XCTestCase {
    func testForwardedHeadersReplaceUntrustedValues() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let r = try get(proxy.port, "/echo", headers: [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "gopher"),
                                                        ("X-Forwarded-Host", "evil.test")])
        // name|XFF|XFP|XFH|Host|Connection|X-Up: a client's claims are replaced, Host passes through.
        XCTAssertEqual(r.bodyText, "A|127.0.0.1|http|site.test|site.test||")
        await proxy.stop(); await upstream.stop()
    }

    func testTrustedProxyValuesAreExtended() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]) + #", "trusted_proxies": ["127.0.0.1/8"]"#)
        let r = try get(proxy.port, "/echo", headers: [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"),
                                                        ("X-Forwarded-Host", "public.test")])
        XCTAssertEqual(r.bodyText, "A|203.0.113.9, 127.0.0.1|https|public.test|site.test||")
        await proxy.stop(); await upstream.stop()
    }

    func testServerTrustedProxiesCountToo() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]),
                                         serverFields: #""trusted_proxies": {"source": "static", "ranges": ["private_ranges"]}"#)
        let r = try get(proxy.port, "/echo", headers: [("X-Forwarded-For", "203.0.113.9")])
        XCTAssertTrue(r.bodyText.hasPrefix("A|203.0.113.9, 127.0.0.1|"), r.bodyText)
        await proxy.stop(); await upstream.stop()
    }

    func testHopByHopHeadersAreRemovedBothWays() async throws {
        let upstream = try await TestServer.start(routes: """
        [{"handle": [{"handler": "static_response", "body": "{http.request.header.Keep-Alive}|{http.request.header.X-Private}|{http.request.header.TE}|{http.request.header.Proxy-Authorization}"}]}]
        """)
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let r = try get(proxy.port, "/", headers: [("Keep-Alive", "300"), ("X-Private", "secret"), ("Connection", "X-Private"),
                                                    ("TE", "trailers"), ("Proxy-Authorization", "Basic eA==")])
        XCTAssertEqual(r.bodyText, "||trailers|")
        await proxy.stop(); await upstream.stop()

        let canned = CannedUpstream("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nConnection: X-Hop, keep-alive\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok")
        let proxy2 = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(canned.port)"}]"#)
        let back = try get(proxy2.port)
        XCTAssertEqual(back.bodyText, "ok")
        XCTAssertNil(back.header("Keep-Alive"))
        XCTAssertNil(back.header("X-Hop"))
        XCTAssertEqual(back.header("X-Kept"), "yes")
        await proxy2.stop(); canned.stop()
    }

    func testUntilCloseAndChunkedUpstreamBodies() async throws {
        let untilClose = CannedUpstream("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed ", rest: "until close")
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(untilClose.port)"}]"#)
        let r = try get(proxy.port)
        XCTAssertEqual(r.bodyText, "streamed until close")
        XCTAssertEqual(r.header("Transfer-Encoding"), "chunked", "no length known: chunked to the client")
        await proxy.stop(); untilClose.stop()

        // The body and the upstream's FIN in one segment: one readiness edge says both (EPOLLRDHUP),
        // and the proxy must not wait for another. The whole body is then known, so its length too.
        let atOnce = CannedUpstream("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall at once")
        let proxy1 = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(atOnce.port)"}]"#)
        let whole = try get(proxy1.port)
        XCTAssertEqual(whole.bodyText, "all at once")
        await proxy1.stop(); atOnce.stop()

        let garbage = CannedUpstream("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
        let proxy2 = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(garbage.port)"}]"#)
        XCTAssertEqual(try get(proxy2.port).status, 502, "conflicting lengths from an upstream are a bad gateway")
        await proxy2.stop(); garbage.stop()
    }

    func testHeaderOpsWithPlaceholders() async throws {
        let upstream = try await startUpstream("A")
        let proxy = try await startProxy(upstreamsJSON([upstream]) + """
        , "headers": {"request": {"set": {"X-Up": ["{http.reverse_proxy.upstream.hostport}"]}},
                      "response": {"set": {"X-Upstream-Status": ["{http.reverse_proxy.status_code}"], "X-Via": ["{http.reverse_proxy.upstream.port}"]}}}
        """)
        let r = try get(proxy.port, "/echo")
        XCTAssertEqual(r.bodyText, "A|127.0.0.1|http|site.test|site.test||127.0.0.1:\(upstream.port)")
        XCTAssertEqual(r.header("X-Upstream-Status"), "200")
        XCTAssertEqual(r.header("X-Via"), String(upstream.port))
        await proxy.stop(); await upstream.stop()
    }

    func testHEADKeepsTheUpstreamsLengthAndStatusPassesThrough() async throws {
        let upstream = try await startUpstream("ABCDE")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let head = try get(proxy.port, "/", method: "HEAD")
        XCTAssertEqual(head.header("Content-Length"), "5")
        XCTAssertTrue(head.body.isEmpty)
        XCTAssertEqual(try get(proxy.port, "/fail").status, 500)
        XCTAssertEqual(try get(proxy.port, "/fail").bodyText, "ABCDE")
        await proxy.stop(); await upstream.stop()
    }

    func testKeepAliveConnectionsAreReused() async throws {
        let upstream = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "{http.request.remote.port}"}]}]"#)
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        // One client connection runs on one loop, so its requests share that loop's pool.
        let client = try RawClient(port: proxy.port)
        var ports: Set<String> = []
        for _ in 0..<20 {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            ports.insert(try XCTUnwrap(client.readResponse()).bodyText)
        }
        XCTAssertEqual(ports.count, 1, "sequential requests reuse one upstream connection")
        await proxy.stop(); await upstream.stop()
    }

    func testUpstreamFieldErrors() {
        func loadError(_ fields: String) -> String {
            let json = #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [{"handler": "reverse_proxy", \#(fields)}]}]}}}}}"#
            do { _ = try ConfigLoader.load(json: json, registry: proxyTestRegistry); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "nohost"}]"#).contains("invalid upstream address \"nohost\""))
        XCTAssertTrue(loadError(#""upstreams": []"#).contains("at least one upstream"))
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "transport": {"protocol": "fastcgi"}"#).contains("unknown transport \"fastcgi\""))
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "transport": {"protocol": "http", "tls": {"client_certificate_file": "c.pem"}}"#).contains("\"client_certificate_file\" is not supported yet"))
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "transport": {"protocol": "http", "tls": {"root_ca_pem_files": ["a", "b"]}}"#).contains("one root CA file"))
        XCTAssertEqual(loadError(#""upstreams": [{"dial": "a:1"}], "transport": {"protocol": "http", "tls": {"insecure_skip_verify": true, "server_name": "x"}}"#), "")
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "request_buffers": 4096"#).contains("not supported yet"))
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "handle_response": [{"status_code": 200, "routes": []}]"#)
            .contains("either replaces the status"))
        XCTAssertTrue(loadError(#""upstreams": [{"dial": "a:1"}], "colour": "red""#).contains("unknown field \"colour\""))
        XCTAssertEqual(loadError(#""upstreams": [{"dial": "a:1", "max_requests": 5}], "transport": {"protocol": "http", "dial_timeout": "2s", "response_header_timeout": 5000000000, "keep_alive": {"enabled": true, "max_idle_conns_per_host": 8, "idle_timeout": "30s"}, "max_response_header_size": 65536}, "flush_interval": -1"#), "")
    }
}

/// Upstream trailers reach the client through the proxy.
final class TrailerForwardingTests: XCTestCase {
    func testUpstreamTrailersPassThrough() async throws {
        let canned = CannedUpstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 42\r\n\r\n")
        let raw = try await rawThroughProxy(to: canned, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(raw.contains("hello"), raw)
        XCTAssertTrue(raw.hasSuffix("0\r\nX-Checksum: 42\r\n\r\n"), raw)
    }
}

/// `rewrite`: the upstream is asked for another method and URI (what `forward_auth` expands to),
/// placeholders taken from the client's request.
final class ProxyRewriteTests: XCTestCase {
    func testMethodAndURIAreRewrittenForTheUpstream() async throws {
        let upstream = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "{http.request.method} {http.request.uri}"}]}]"#)
        let proxy = try await startProxy(#"\#(upstreamsJSON([upstream])), "rewrite": {"method": "GET", "uri": "/auth?orig={http.request.uri}"}"#)
        let response = try get(proxy.port, "/x?y=1", method: "POST", headers: [("Content-Length", "0")])
        XCTAssertEqual(response.status, 200)
        // As Caddy's rewrite: a placeholder in the query is query-escaped.
        XCTAssertEqual(response.bodyText, "GET /auth?orig=%2Fx%3Fy%3D1")
        await proxy.stop()
        await upstream.stop()
    }
}

/// `handle_response`, `copy_response` and `copy_response_headers`: the upstream's answer
/// decides what happens next, as Caddy's forward_auth and intercepting configs use it.
final class ResponseHandlerTests: XCTestCase {
    /// An auth service: 200 with `X-User` for the right token, 401 otherwise.
    func authService() async throws -> TestServer {
        try await TestServer.start(routes: """
        [{"match": [{"header": {"Authorization": ["Bearer good"]}}], "handle": [{"handler": "static_response", "status_code": 200,
            "headers": {"X-User": ["alice"], "X-Extra": ["1"]}, "body": "authorised"}], "terminal": true},
         {"handle": [{"handler": "static_response", "status_code": 401, "body": "who are you?"}]}]
        """)
    }

    func testMatchingRoutesRunThenTheChainGoesOn() async throws {
        let auth = try await authService()
        let proxy = try await TestServer.start(routes: """
        [{"handle": [{"handler": "reverse_proxy", \(upstreamsJSON([auth])), "rewrite": {"method": "GET", "uri": "/verify"},
            "handle_response": [{"match": {"status_code": [2]}, "routes": [{"handle": [{"handler": "headers",
                "request": {"set": {"X-User": ["{http.reverse_proxy.header.X-User}"]}}}]}]}]},
          {"handler": "static_response", "body": "hello {http.request.header.X-User}"}]}]
        """, registry: proxyTestRegistry)
        let allowed = try get(proxy.port, "/app", headers: [("Authorization", "Bearer good")])
        XCTAssertEqual(allowed.status, 200)
        XCTAssertEqual(allowed.bodyText, "hello alice", "the auth answer's header reached the request, then the next handler answered")
        let refused = try get(proxy.port, "/app")
        XCTAssertEqual(refused.status, 401, "an answer no handler matches is sent as it is")
        XCTAssertEqual(refused.bodyText, "who are you?")
        await proxy.stop()
        await auth.stop()
    }

    func testTheBodyStaysForTheAppAndHeaderNamesAreCanonical() async throws {
        // The auth service answers with a lower-case field name; the app echoes the body it got.
        let auth = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "headers": {"x-user": ["bob"]}, "body": "{http.request.method}"}]}]"#)
        let app = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "{http.request.header.X-User} {http.request.header.Content-Length}"}]}]"#)
        let proxy = try await TestServer.start(routes: """
        [{"handle": [{"handler": "reverse_proxy", \(upstreamsJSON([auth])), "rewrite": {"method": "GET", "uri": "/verify"},
            "headers": {"response": {"delete": ["X-User"]}},
            "handle_response": [{"match": {"headers": {"X-User": ["*"]}}, "routes": [{"handle": [{"handler": "headers",
                "request": {"set": {"X-User": ["{http.reverse_proxy.header.X-User}"]}}}]}]}]},
          {"handler": "reverse_proxy", \(upstreamsJSON([app]))}]}]
        """, registry: proxyTestRegistry)
        let body = String(repeating: "b", count: 100_000)
        let response = try get(proxy.port, "/upload", method: "POST", headers: [("Content-Length", "\(body.count)")], body: body)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "bob 100000",
                       "matched before the header ops removed the field; the app got the whole body, the auth service none")
        await proxy.stop()
        await app.stop()
        await auth.stop()
    }

    func testReplaceStatusAndCopies() async throws {
        let auth = try await authService()
        let proxy = try await TestServer.start(routes: """
        [{"match": [{"path": ["/replace"]}], "handle": [{"handler": "reverse_proxy", \(upstreamsJSON([auth])),
            "handle_response": [{"match": {"status_code": [401]}, "status_code": 403}]}]},
         {"match": [{"path": ["/copy"]}], "handle": [{"handler": "reverse_proxy", \(upstreamsJSON([auth])),
            "handle_response": [{"routes": [{"handle": [{"handler": "copy_response", "status_code": 202}]}]}]}]},
         {"match": [{"path": ["/headers"]}], "handle": [{"handler": "reverse_proxy", \(upstreamsJSON([auth])),
            "handle_response": [{"match": {"headers": {"X-User": ["ali*"]}}, "routes": [{"handle": [
                {"handler": "copy_response_headers", "include": ["X-User"]},
                {"handler": "static_response", "body": "mine"}]}]}]}]}]
        """, registry: proxyTestRegistry)
        let replaced = try get(proxy.port, "/replace")
        XCTAssertEqual(replaced.status, 403)
        XCTAssertEqual(replaced.bodyText, "who are you?", "replace_status keeps the body")
        let copied = try get(proxy.port, "/copy", headers: [("Authorization", "Bearer good")])
        XCTAssertEqual(copied.status, 202)
        XCTAssertEqual(copied.bodyText, "authorised")
        let headers = try get(proxy.port, "/headers", headers: [("Authorization", "Bearer good")])
        XCTAssertEqual(headers.bodyText, "mine")
        XCTAssertEqual(headers.header("X-User"), "alice")
        XCTAssertNil(headers.header("X-Extra"), "only the included field")
        await proxy.stop()
        await auth.stop()
    }
}
