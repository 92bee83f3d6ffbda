import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Interoperability with an independent implementation, Python's `websockets` (Debian's
/// python3-websockets, which `scripts/deps.sh` installs): its client against our server, and
/// our client against its server, with and without permessage-deflate. Skipped when no Python
/// with `websockets` is found (`QUANTUM_PYTHON`, `python3` on PATH, `/usr/bin/python3`).
final class WebSocketPythonInteropTests: XCTestCase {
    static let python: String? = {
        var candidates = ["/usr/bin/python3"]
        if let env = getenv("QUANTUM_PYTHON") { candidates.insert(String(cString: env), at: 0) }
        if let path = H1ProbeTests.findExecutable("python3") { candidates.insert(path, at: candidates.count - 1) }
        return candidates.first { access($0, X_OK) == 0 && runProcess($0, ["-c", "import websockets"], timeout: 20).status == 0 }
    }()

    /// Works with websockets 10.x (Debian 12) and 13+ alike: only the APIs both have.
    static let clientScript = #"""
    import asyncio, sys, websockets
    async def check(url, compression):
        async with websockets.connect(url, compression=compression, max_size=None) as ws:
            headers = getattr(ws, "response_headers", None) or ws.response.headers
            ext = headers.get("Sec-WebSocket-Extensions")
            if compression and not (ext and ext.startswith("permessage-deflate")):
                raise SystemExit("no permessage-deflate in " + repr(ext))
            for m in ["Hello", "", "ünïcødé ✓", b"", b"\x00\xff" * 40000, "x" * 200000]:
                await ws.send(m)
                got = await ws.recv()
                if got != m: raise SystemExit("echo differs for a %d-long %s" % (len(m), type(m).__name__))
            await ws.send(["frag", "men", "ted"])
            if await ws.recv() != "fragmented": raise SystemExit("fragmented echo differs")
            pong = await ws.ping(b"p")
            await asyncio.wait_for(pong, 10)
        if ws.close_code != 1000: raise SystemExit("close code %r" % ws.close_code)
        print("ok", url, compression, flush=True)
    async def main():
        await check(sys.argv[1] + "/echo", None)
        await check(sys.argv[1] + "/deflate", "deflate")
        await check(sys.argv[1] + "/deflate", None)
    asyncio.run(asyncio.wait_for(main(), 60))
    """#

    static let serverScript = #"""
    import asyncio, sys, websockets
    async def echo(ws, path=None):
        try:
            async for m in ws:
                await ws.send(m)
        except Exception:
            pass
    async def main():
        comp = "deflate" if "--compression" in sys.argv else None
        server = await websockets.serve(echo, "127.0.0.1", 0, compression=comp, max_size=None)
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(60)
    asyncio.run(main())
    """#

    func testPythonClientAgainstQuantum() async throws {
        guard let python = Self.python else { throw XCTSkip("no Python with the websockets package") }
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry()) { server in
            let (status, output) = runProcess(python, ["-c", Self.clientScript, "ws://127.0.0.1:\(server.port)"], timeout: 90)
            XCTAssertEqual(status, 0, output)
            XCTAssertEqual(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count, 3, output)
        }
    }

    func testQuantumClientAgainstPython() async throws {
        guard let python = Self.python else { throw XCTSkip("no Python with the websockets package") }
        for compression in [false, true] {
            let server = try SpawnedProcess(python, ["-c", Self.serverScript] + (compression ? ["--compression"] : []))
            defer { server.terminate() }
            guard let portLine = server.readLine(timeout: 20), let port = Int(portLine) else { return XCTFail("the Python server did not start") }
            let config = WebSocketConfiguration(compression: compression ? WebSocketCompression() : nil)
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)/", configuration: config)
            XCTAssertEqual(socket.compression != nil, compression)
            for m: WebSocketMessage in [.text("Hello"), .text(""), .binary([]), .binary((0..<100_000).map { UInt8(truncatingIfNeeded: $0) }),
                                        .text(String(repeating: "éa", count: 50_000))] {
                try await socket.send(m)
                let got = await socket.next()
                XCTAssertTrue(got == m, "echo of a \(m.count)-byte message differs (compression \(compression))")
            }
            await socket.close()
            XCTAssertEqual(socket.closeCode, .normal)
        }
    }
}

/// A child process whose standard output is read line by line, with timeouts.
final class SpawnedProcess {
    let pid: pid_t
    private let out: Int32
    private var buffered: [UInt8] = []

    init(_ executable: String, _ arguments: [String]) throws {
        (pid, out) = try spawnProcess(executable, arguments)
    }

    /// The next line of output, nil after `timeout` seconds or at end of output.
    func readLine(timeout: Int) -> String? {
        let deadline = time(nil) + timeout
        while true {
            if let nl = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[..<nl], as: UTF8.self)
                buffered.removeFirst(nl + 1)
                return line
            }
            var p = pollfd(fd: out, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(0, deadline - time(nil)) * 1000)
            if poll(&p, 1, remaining) <= 0 { return nil }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(out, &buf, buf.count)
            if n <= 0 { return nil }
            buffered += buf[0..<n]
        }
    }

    func terminate() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(out)
    }
}
