import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// Bodies stream through the proxy both ways without being held in memory, and upgrades tunnel.
final class StreamingTests: XCTestCase {
    /// Resident memory of this process in bytes (proxy and upstream both run here).
    static func rss() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) else { return 0 }
        return kb * 1024
    }

    /// Runs `body` while sampling RSS; returns its result and the peak growth over the start.
    func peakGrowth<T>(_ body: () throws -> T) rethrows -> (T, Int) {
        let baseline = Self.rss()
        let peak = ManagedAtomicBox()
        let done = ManagedAtomicBox()
        let sampler = Thread {
            while done.value == 0 { peak.value = max(peak.value, Self.rss()); usleep(20_000) }
        }
        sampler.start()
        let result = try body()
        done.value = 1
        usleep(50_000)
        return (result, max(0, peak.value - baseline))
    }

    func test100MiBUploadStreamsThrough() async throws {
        let upstream = try await startUpstream("U")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let path = NSTemporaryDirectory() + "quantum-upload-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        defer { unlink(path) }
        truncate(path, 100 << 20)
        for chunked in [false, true] {
            var args = ["-s", "-X", "POST", "--data-binary", "@\(path)", "http://127.0.0.1:\(proxy.port)/count"]
            if chunked { args += ["-H", "Transfer-Encoding: chunked"] }
            let (result, growth) = peakGrowth { runProcess("curl", args, timeout: 120) }
            XCTAssertEqual(result.status, 0)
            XCTAssertEqual(result.output, String(100 << 20), "the upstream received every byte (chunked: \(chunked))")
            XCTAssertLessThan(growth, 48 << 20, "100 MiB passed through with \(growth >> 20) MiB growth (chunked: \(chunked))")
        }
        await proxy.stop(); await upstream.stop()
    }

    func test100MiBDownloadStreamsThrough() async throws {
        let upstream = try await TestServer.start(routes: #"[{"handle": [{"handler": "test_stream", "size": 104857600}]}]"#, registry: proxyTestRegistry)
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let (result, growth) = peakGrowth {
            runProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{size_download} %{http_code}", "http://127.0.0.1:\(proxy.port)/"], timeout: 120)
        }
        XCTAssertEqual(result.output, "104857600 200")
        XCTAssertLessThan(growth, 48 << 20, "100 MiB passed through with \(growth >> 20) MiB growth")
        await proxy.stop(); await upstream.stop()
    }

    func testChunkedResponsePassesThroughChunked() async throws {
        let upstream = try await startUpstream("C")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let r = try get(proxy.port, "/stream")
        XCTAssertEqual(r.header("Transfer-Encoding"), "chunked")
        XCTAssertEqual(r.body.count, 3_000_000)
        XCTAssertTrue(r.body.allSatisfy { $0 == UInt8(ascii: "x") })
        await proxy.stop(); await upstream.stop()
    }

    func testWebSocketEchoThroughTheProxy() async throws {
        let upstream = try await startUpstream("W")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(proxy.port)/ws")
        for text in ["hello", String(repeating: "é", count: 70_000)] {
            try await socket.send(text: text)
            guard case .text(let echoed)? = await socket.receive() else { return XCTFail("no echo") }
            XCTAssertEqual(echoed, text)
        }
        try await socket.send(binary: [0, 1, 2, 255])
        guard case .binary(let bytes)? = await socket.receive() else { return XCTFail("no binary echo") }
        XCTAssertEqual(bytes, [0, 1, 2, 255])
        await socket.close()
        XCTAssertEqual(socket.closeCode, .normal, "the close handshake went through the tunnel")
        await proxy.stop(); await upstream.stop()
    }

    func testTunnelDeliversTheUpstreamsLastBytesBeforeClosing() async throws {
        // The upstream switches, writes, and closes: its bytes and its FIN arrive together, and
        // the client side must be closed only after those bytes went out.
        let upstream = CannedUpstream("HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\nlast words")
        let text = try await rawThroughProxy(to: upstream, "GET / HTTP/1.1\r\nHost: site.test\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n")
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 "), text)
        XCTAssertTrue(text.hasSuffix("\r\n\r\nlast words"), text)
    }

    func testStreamTimeoutCutsATunnelWhoseClientStoppedReading() async throws {
        // The upstream sends far more than the socket buffers hold; the client reads nothing, so
        // the proxy's output to it never drains: the timeout must not wait for that.
        let flood = String(repeating: "x", count: 64 << 20)
        let upstream = CannedUpstream("HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n" + flood,
                                      keepAlive: true)
        let proxy = try await startProxy(#""upstreams": [{"dial": "127.0.0.1:\#(upstream.port)"}], "stream_timeout": "300ms""#)
        let client = try RawClient(port: proxy.port)
        client.send("GET / HTTP/1.1\r\nHost: site.test\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\n")
        var open = 1
        for _ in 0..<60 where open > 0 {
            try await Task.sleep(for: .milliseconds(100))
            open = await proxy.app.servers[0].listeners[0].connectionCounts().reduce(0, +)
        }
        XCTAssertEqual(open, 0, "the tunnel outlived its stream_timeout")
        await proxy.stop(); upstream.stop()
    }

    func testUpgradeRefusedByTheUpstreamIsAnOrdinaryResponse() async throws {
        let upstream = try await startUpstream("N")
        let proxy = try await startProxy(upstreamsJSON([upstream]))
        let r = try get(proxy.port, "/", headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "N")
        await proxy.stop(); await upstream.stop()
    }
}

/// An Int shared with the sampler thread.
final class ManagedAtomicBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// RFC 8441 through the proxy: an HTTP/2 extended CONNECT (Python `h2`, the QuantumCore tests'
/// `Support/h2_websocket.py`) tunnels to an HTTP/1.1 upstream WebSocket.
final class HTTP2WebSocketProxyTests: XCTestCase {
    func testExtendedConnectTunnelsToAnHTTP1Upstream() async throws {
        let candidates = [getenv("QUANTUM_H2_PYTHON").map { String(cString: $0) }, "/tmp/quantum-h2-venv/bin/python"]
        guard let python = candidates.compactMap({ $0 }).first(where: { access($0, X_OK) == 0 && runProcess($0, ["-c", "import h2"]).status == 0 })
        else { throw XCTSkip("Python with h2 not found (scripts/deps.sh makes /tmp/quantum-h2-venv)") }
        var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        path.removeLast(2)
        let script = (path + ["QuantumCoreTests", "Support", "h2_websocket.py"]).joined(separator: "/")
        let upstream = try await startUpstream("W")
        let proxy = try await startProxy(upstreamsJSON([upstream]), serverFields: #""protocols": ["h1", "h2", "h2c"]"#)
        for name in ["proxy_echo", "proxy_refused"] {
            let r = runProcess(python, [script, "--port", String(proxy.port), name], timeout: 60)
            for line in r.output.split(separator: "\n") where line.hasPrefix("FAIL") { XCTFail(String(line)) }
            XCTAssertTrue(r.output.contains("PASS \(name)"), r.output)
        }
        await proxy.stop(); await upstream.stop()
    }
}
