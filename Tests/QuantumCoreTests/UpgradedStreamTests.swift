import Glibc
import Quantum
import QuantumTestSupport
import XCTest

/// The byte stream of a claimed upgrade: what the peer sends waits in the kernel, not in the
/// server, while the handler does not read.
final class UpgradedStreamTests: XCTestCase {
    func testReadingPausesWhileTheHandlerDoesNotRead() async throws {
        var registry = StandardModules.registry
        registry.register(UpgradeSink.self)
        try await withServer(routes: #"[{"handle": [{"handler": "test_upgrade_sink"}]}]"#, registry: registry) { server in
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: sink\r\nConnection: Upgrade\r\n\r\n")
            XCTAssertEqual(client.readResponse()?.status, 101)
            // 128 MiB offered without blocking; the server may hold 256 KiB of it, the two
            // kernels' socket buffers at most 36 MiB here (tcp_rmem 32 MiB, tcp_wmem 4 MiB).
            let flags = fcntl(client.fd, F_GETFL)
            _ = fcntl(client.fd, F_SETFL, flags | O_NONBLOCK)
            let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
            var written = 0
            var stalledSince: UInt64?
            while written < 128 << 20 {
                let n = chunk.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 { written += n; stalledSince = nil; continue }
                guard errno == EAGAIN else { return XCTFail("send failed: \(errno)") }
                // Full: done once it stays full for 300 ms (the server had time to read more).
                let now = SystemClock.monotonicNanos()
                if let since = stalledSince, now - since > 300_000_000 { break }
                if stalledSince == nil { stalledSince = now }
                usleep(10_000)
            }
            print("upgraded stream: \(written >> 20) MiB accepted while the handler did not read")
            XCTAssertLessThan(written, 64 << 20, "the server kept reading a stream nobody reads")
        }
    }
}
