import Foundation
import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// HTTP/2 against real peers: curl (prior knowledge, `Upgrade: h2c`, ALPN over TLS) and
/// nghttp (concurrent streams); the same handlers answer the same bytes over HTTP/1.1 and h2.
final class HTTP2Tests: XCTestCase {
    static let h2c = #""protocols": ["h1", "h2", "h2c"]"#
    static let protoRoutes = #"[{"handle": [{"handler": "static_response", "body": "{http.request.proto} {http.request.method} {http.request.uri}"}]}]"#

    func testCurlPriorKnowledgeGetsHTTP2() async throws {
        try await withServer(routes: Self.protoRoutes, serverFields: Self.h2c) { server in
            let r = runProcess("curl", ["-sS", "--http2-prior-knowledge", "-w", " %{http_version}",
                                        "http://127.0.0.1:\(server.port)/a/b?x=1"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertEqual(r.output, "HTTP/2.0 GET /a/b?x=1 2")
            // The same connection keeps serving HTTP/1.1 clients (the preface decides).
            let h1 = runProcess("curl", ["-sS", "-w", " %{http_version}", "http://127.0.0.1:\(server.port)/h1"])
            XCTAssertEqual(h1.output, "HTTP/1.1 GET /h1 1.1")
        }
    }

    func testCurlUpgradeH2C() async throws {
        try await withServer(routes: Self.protoRoutes, serverFields: Self.h2c) { server in
            let r = runProcess("curl", ["-sS", "--http2", "-D", "-", "-w", " %{http_version}", "http://127.0.0.1:\(server.port)/up"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertTrue(r.output.hasPrefix("HTTP/1.1 101 Switching Protocols"), r.output)
            XCTAssertTrue(r.output.hasSuffix("HTTP/2.0 GET /up 2"), r.output)
        }
    }

    func testH2CIsOffUnlessListed() async throws {
        try await withServer(routes: Self.protoRoutes) { server in
            let prior = runProcess("curl", ["-sS", "--http2-prior-knowledge", "http://127.0.0.1:\(server.port)/"])
            XCTAssertNotEqual(prior.status, 0, prior.output)
            // Upgrade: h2c is ignored: the request is answered over HTTP/1.1.
            let upgrade = runProcess("curl", ["-sS", "--http2", "-w", " %{http_version}", "http://127.0.0.1:\(server.port)/u"])
            XCTAssertEqual(upgrade.output, "HTTP/1.1 GET /u 1.1")
        }
    }

    func testTLSALPNPicksH2AndProtocolsCanTurnItOff() async throws {
        let pki = try TestPKI.get()
        let routes = #"[{"handle": [{"handler": "static_response", "body": "{http.request.proto} {http.request.tls.proto} {http.request.scheme}"}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes)) { server in
            let r = curlTLS(pki, port: server.port, ["--http2", "-w", " %{http_version}"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertEqual(r.output, "HTTP/2.0 h2 https 2")
            let h1 = curlTLS(pki, port: server.port, ["--http1.1"])
            XCTAssertEqual(h1.output, "HTTP/1.1 http/1.1 https")
        }
        try await withTLSServer(tlsConfig(pki, routes: routes, serverFields: #""protocols": ["h1"]"#)) { server in
            let r = curlTLS(pki, port: server.port, ["--http2", "-w", " %{http_version}"])
            XCTAssertEqual(r.output, "HTTP/1.1 http/1.1 https 1.1")
        }
    }

    func testProtocolMatcherSeesHTTP2() async throws {
        let routes = #"""
        [{"match": [{"protocol": "http/2"}], "handle": [{"handler": "static_response", "body": "two"}]},
         {"handle": [{"handler": "static_response", "body": "other"}]}]
        """#
        try await withServer(routes: routes, serverFields: Self.h2c) { server in
            XCTAssertEqual(runProcess("curl", ["-sS", "--http2-prior-knowledge", "http://127.0.0.1:\(server.port)/"]).output, "two")
            XCTAssertEqual(runProcess("curl", ["-sS", "http://127.0.0.1:\(server.port)/"]).output, "other")
        }
    }

    func testNghttpConcurrentStreamsOnOneConnection() async throws {
        let routes = #"""
        [{"match": [{"path": ["/slow"]}], "handle": [{"handler": "test_sleep", "millis": 300, "body": "slow"}]},
         {"handle": [{"handler": "static_response", "body": "fast {http.request.uri}"}]}]
        """#
        try await withServer(routes: routes, serverFields: Self.h2c, registry: coreTestRegistry()) { server in
            let base = "http://127.0.0.1:\(server.port)"
            let urls = ["/slow"] + (1...8).map { "/f\($0)" }
            let started = SystemClock.monotonicNanos()
            let r = runProcess("nghttp", ["-nv", "--no-dep"] + urls.map { base + $0 }, timeout: 30)
            let elapsed = SystemClock.monotonicNanos() - started
            XCTAssertEqual(r.status, 0, r.output)
            // Nine streams, one connection: nine HEADERS answered with :status 200.
            XCTAssertEqual(r.output.components(separatedBy: ":status: 200").count - 1, 9, r.output)
            XCTAssertTrue(r.output.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):250"), r.output)
            XCTAssertTrue(r.output.contains("recv GOAWAY") == false || r.output.contains("error_code=NO_ERROR"), r.output)
            XCTAssertLessThan(elapsed, 3_000_000_000)
        }
    }

    func testSameBodiesOverHTTP1AndHTTP2() async throws {
        let dir = try makeTempDir()
        var big = [UInt8](repeating: 0, count: 300_000)
        for i in big.indices { big[i] = UInt8((i * 7 + i / 1000) & 0xff) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/big.bin", contents: Data(big)))
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/small.txt", contents: Data("hello file\n".utf8)))
        let routes = #"""
        [{"match": [{"path": ["/static"]}], "handle": [{"handler": "static_response", "body": "static body", "headers": {"X-A": ["1"]}}]},
         {"match": [{"path": ["/stream"]}], "handle": [{"handler": "test_stream", "total": 500000, "piece": 7000}]},
         {"match": [{"path": ["/stream-len"]}], "handle": [{"handler": "test_stream", "total": 100000, "piece": 3000, "declare_length": true}]},
         {"handle": [{"handler": "file_server", "root": "\#(dir)"}]}]
        """#
        try await withServer(routes: routes, serverFields: Self.h2c, registry: coreTestRegistry()) { server in
            for path in ["/static", "/stream", "/stream-len", "/big.bin", "/small.txt"] {
                let url = "http://127.0.0.1:\(server.port)\(path)"
                let h1 = runProcess("/bin/sh", ["-c", "curl -sS --http1.1 \(url) | sha256sum"])
                let h2 = runProcess("/bin/sh", ["-c", "curl -sS --http2-prior-knowledge \(url) | sha256sum"])
                XCTAssertEqual(h1.output, h2.output, path)
                let size = runProcess("curl", ["-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{size_download} %{http_version} %{response_code}", url])
                XCTAssertTrue(size.output.hasSuffix(" 2 200"), "\(path): \(size.output)")
            }
            let file = runProcess("/bin/sh", ["-c", "curl -sS --http2-prior-knowledge http://127.0.0.1:\(server.port)/big.bin | cmp - \(dir)/big.bin && echo same"])
            XCTAssertEqual(file.output, "same\n")
            // HEAD: the length, no body.
            let head = runProcess("curl", ["-sS", "--http2-prior-knowledge", "-I", "http://127.0.0.1:\(server.port)/big.bin"])
            XCTAssertTrue(head.output.contains("content-length: 300000"), head.output)
        }
    }

    func testRequestBodiesStreamInOverHTTP2() async throws {
        let dir = try makeTempDir()
        var upload = [UInt8](repeating: 0, count: 3_000_000)
        for i in upload.indices { upload[i] = UInt8((i * 13) & 0xff) }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/up.bin", contents: Data(upload)))
        let routes = #"""
        [{"match": [{"path": ["/collect"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
         {"handle": [{"handler": "test_echo"}]}]
        """#
        try await withServer(routes: routes, serverFields: Self.h2c, registry: coreTestRegistry()) { server in
            for path in ["/collect", "/echo"] {
                let r = runProcess("/bin/sh", ["-c", "curl -sS --http2-prior-knowledge --data-binary @\(dir)/up.bin http://127.0.0.1:\(server.port)\(path) | cmp - \(dir)/up.bin && echo same"], timeout: 60)
                XCTAssertEqual(r.output, "same\n", path)
            }
        }
    }

    func testGracefulShutdownSendsGOAWAYAndFinishesStreams() async throws {
        let key = "h2-goaway-\(UInt64.random(in: 0...UInt64.max))"
        let routes = #"[{"handle": [{"handler": "test_sleep", "millis": 800, "body": "finished", "key": "\#(key)"}]}]"#
        let server = try await TestServer.start(routes: routes, serverFields: Self.h2c, registry: coreTestRegistry())
        let port = server.port
        let client = Task.detached { runProcess("nghttp", ["-v", "http://127.0.0.1:\(port)/"], timeout: 20) }
        // Stop only once the stream is running (starting nghttp can take a while on a busy machine).
        for _ in 0..<200 where Board.shared.value(key + ".started") == 0 { try await Task.sleep(nanoseconds: 50_000_000) }
        XCTAssertEqual(Board.shared.value(key + ".started"), 1, "the request never reached the handler")
        await server.stop()
        let r = await client.value
        XCTAssertTrue(r.output.contains("recv GOAWAY"), r.output)
        XCTAssertTrue(r.output.contains("finished"), r.output)
    }

    private func makeTempDir() throws -> String {
        var template = Array("/tmp/quantum-h2-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw XCTSkip("mkdtemp failed") }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
