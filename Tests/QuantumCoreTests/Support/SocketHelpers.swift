import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// Socket-level helpers for the end-to-end tests. Every wait has a deadline, so nothing hangs.
enum Sock {
    /// What a peer did within a deadline.
    enum PeerEvent: Equatable { case closed, data([UInt8]), stillOpen }

    /// Waits up to `seconds` for the peer to close (EOF or reset) or send something.
    static func waitForClose(_ fd: Int32, seconds: Double) -> PeerEvent {
        let deadline = now() + seconds
        while true {
            let left = deadline - now()
            if left <= 0 { return .stillOpen }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, Int32(max(1, left * 1000)))
            if rc < 0 && errno == EINTR { continue }
            if rc <= 0 { continue }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n == 0 { return .closed }
            if n > 0 { return .data(Array(buf[0..<n])) }
            if errno == ECONNRESET || errno == EPIPE { return .closed }
            if errno == EAGAIN || errno == EINTR { continue }
            return .closed
        }
    }

    /// Reads until `done(received)` holds, the peer closes, or `seconds` pass.
    static func read(_ fd: Int32, seconds: Double, until done: ([UInt8]) -> Bool) -> [UInt8] {
        let deadline = now() + seconds
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while !done(out) {
            let left = deadline - now()
            if left <= 0 { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let rc = poll(&p, 1, Int32(max(1, left * 1000)))
            if rc < 0 && errno == EINTR { continue }
            if rc <= 0 { continue }
            let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n > 0 { out += buf[0..<n] } else if n == 0 || (errno != EAGAIN && errno != EINTR) { break }
        }
        return out
    }

    /// Reads one response with `HTTPTestResponse.parse`, waiting up to `seconds`.
    static func readResponse(_ fd: Int32, seconds: Double, isHead: Bool = false) -> (HTTPTestResponse, rest: [UInt8])? {
        var parsed: (HTTPTestResponse, Int)?
        let bytes = read(fd, seconds: seconds) { bytes in
            parsed = HTTPTestResponse.parse(bytes, isHead: isHead)
            return parsed != nil
        }
        guard let (response, used) = parsed else { return nil }
        return (response, Array(bytes[used...]))
    }

    /// Sends without raising SIGPIPE when the server has already closed; false on error.
    @discardableResult
    static func send(_ fd: Int32, _ text: String) -> Bool { send(fd, bytes: Array(text.utf8)) }

    @discardableResult
    static func send(_ fd: Int32, bytes: [UInt8]) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Monotonic seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// True when `haystack` contains `needle`.
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count, !n.isEmpty else { return n.isEmpty }
        for i in 0...(haystack.count - n.count) where haystack[i] == n[0] && Array(haystack[i..<i + n.count]) == n { return true }
        return false
    }
}

/// Runs `body` against a fresh server and always stops it.
func withServer(routes: String, serverFields: String = "", registry: ModuleRegistry = StandardModules.registry,
                _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.start(routes: routes, serverFields: serverFields, registry: registry)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// A fresh connection's `GET path` (asserting the server still serves after some abuse).
func freshGet(_ port: Int, _ path: String = "/", file: StaticString = #filePath, line: UInt = #line) -> HTTPTestResponse? {
    guard let client = try? RawClient(port: port) else {
        XCTFail("cannot connect to port \(port)", file: file, line: line)
        return nil
    }
    client.send("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    return client.readResponse(timeout: 5)
}
