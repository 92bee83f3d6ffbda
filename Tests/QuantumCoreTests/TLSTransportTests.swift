import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// HTTP/1.1 over TLS end to end: file regions (read, then encrypted), keep-alive, streaming
/// both ways, close-delimited bodies.
final class TLSTransportTests: XCTestCase {
    private func makeFiles() throws -> (dir: String, big: [UInt8]) {
        let pki = try TestPKI.get()
        let dir = pki.dir + "/www-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o755)
        var g = SystemRandomNumberGenerator()
        let big = (0..<(3 * 1024 * 1024 + 7)).map { _ in UInt8.random(in: 0...255, using: &g) }
        try Data(big).write(to: URL(fileURLWithPath: dir + "/big.bin"))
        try Data("small file\n".utf8).write(to: URL(fileURLWithPath: dir + "/small.txt"))
        return (dir, big)
    }

    func testFileServerOverTLSIsByteExact() async throws {
        let pki = try TestPKI.get()
        let (dir, big) = try makeFiles()
        let routes = #"[{"handle": [{"handler": "file_server", "root": "\#(dir)"}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes)) { server in
            let out = dir + "/download.bin"
            let r = curlTLS(pki, port: server.port, path: "/big.bin", ["-o", out, "-w", "%{http_code} %{size_download}"])
            XCTAssertEqual(r.output, "200 \(big.count)")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), Data(big), "the file region arrives byte-exact over TLS")
            // A range in the middle of the file: a region with an offset.
            let part = curlTLS(pki, port: server.port, path: "/big.bin", ["-o", out, "-r", "1000000-2100000", "-w", "%{http_code}"])
            XCTAssertEqual(part.output, "206")
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), Data(big[1_000_000...2_100_000]))
            XCTAssertEqual(curlTLS(pki, port: server.port, path: "/small.txt").output, "small file\n")
        }
    }

    func testKeepAliveServesManyRequestsOnOneConnection() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let urls = (0..<20).flatMap { ["-o", "/dev/null", "https://a.test:\(server.port)/\($0)"] }
            let r = runProcess("curl", ["-sS", "--cacert", pki.cert("ca"), "--resolve", "a.test:\(server.port):127.0.0.1",
                                        "-w", "%{num_connects}\n"] + urls)
            let connects = r.output.split(separator: "\n").compactMap { Int($0) }
            XCTAssertEqual(connects.count, 20, r.output)
            XCTAssertEqual(connects.reduce(0, +), 1, "one TLS connection for twenty requests: \(r.output)")
        }
    }

    func testStreamingBothWays() async throws {
        let pki = try TestPKI.get()
        let routes = #"""
        [{"match": [{"path": ["/down"]}], "handle": [{"handler": "test_stream", "total": 5242880, "piece": 10000}]},
         {"match": [{"path": ["/up"]}], "handle": [{"handler": "test_echo", "mode": "collect"}]},
         {"match": [{"path": ["/echo"]}], "handle": [{"handler": "test_echo", "mode": "stream"}]}]
        """#
        try await withTLSServer(tlsConfig(pki, routes: routes), registry: coreTestRegistry()) { server in
            let dir = pki.dir
            let down = dir + "/stream-down.bin"
            let r = curlTLS(pki, port: server.port, path: "/down", ["-o", down, "-w", "%{http_code} %{size_download}"])
            XCTAssertEqual(r.output, "200 5242880")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: down)))
            XCTAssertEqual(bytes.count, 5_242_880)
            XCTAssertTrue(bytes.indices.allSatisfy { bytes[$0] == StreamHandler.expectedByte(at: $0, piece: 10000) }, "streamed body intact")

            var g = SystemRandomNumberGenerator()
            let upload = (0..<(2 * 1024 * 1024 + 3)).map { _ in UInt8.random(in: 0...255, using: &g) }
            let upPath = dir + "/upload.bin"
            try Data(upload).write(to: URL(fileURLWithPath: upPath))
            for path in ["/up", "/echo"] {
                let echoed = dir + "/echoed.bin"
                let u = curlTLS(pki, port: server.port, path: path, ["--data-binary", "@" + upPath, "-o", echoed, "-w", "%{http_code}"])
                XCTAssertEqual(u.output, "200", path)
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: echoed)), Data(upload), "\(path) echoes the upload byte-exact")
            }
        }
    }

    func testCloseDelimitedBodyEndsWithCloseNotify() async throws {
        let pki = try TestPKI.get()
        let routes = #"[{"handle": [{"handler": "test_stream", "total": 300000, "piece": 7000}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes), registry: coreTestRegistry()) { server in
            // HTTP/1.0 and no length: the body ends when the connection does. curl (OpenSSL 3)
            // reports an error when TLS ends without close_notify.
            let r = curlTLS(pki, port: server.port, ["-0", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertEqual(r.output, "200 300000")
        }
    }

    func testWebSocketOverTLS() async throws {
        let pki = try TestPKI.get()
        guard let python = WebSocketPythonInteropTests.python else { throw XCTSkip("no Python with websockets") }
        let script = #"""
        import asyncio, ssl, sys, websockets
        async def main():
            ctx = ssl.create_default_context(cafile=sys.argv[2])
            async with websockets.connect(sys.argv[1], ssl=ctx, max_size=None) as ws:
                for m in ["hello", b"\x00\xff" * 50000, "x" * 300000]:
                    await ws.send(m)
                    if await ws.recv() != m: raise SystemExit("echo differs")
            print("ok", flush=True)
        asyncio.run(main())
        """#
        let routes = #"[{"handle": [{"handler": "websocket_echo"}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes)) { server in
            let port = server.port
            let r = await Task.detached {
                runProcess(python, ["-c", script, "wss://127.0.0.1:\(port)/", pki.cert("ca")], timeout: 30)
            }.value
            XCTAssertEqual(r.output, "ok\n")
        }
    }

    func testManyConcurrentClients() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            let port = server.port
            let results = await withTaskGroup(of: String.self) { group in
                for _ in 0..<16 {
                    group.addTask { curlTLS(pki, port: port).output }
                }
                var all: [String] = []
                for await r in group { all.append(r) }
                return all
            }
            XCTAssertEqual(results.count, 16)
            XCTAssertTrue(results.allSatisfy { $0 == "https tls1.3 a.test h2 TLS_AES_128_GCM_SHA256" }, "\(results)")
        }
    }
}
