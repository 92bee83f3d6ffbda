import Quantum
import QuantumTestSupport
import XCTest

/// Back-pressure end to end: a server sending 64 MiB to a client that does not read is held
/// back (its `send` suspends) instead of queueing it all in memory; once the client reads,
/// everything arrives in order.
final class WebSocketBackPressureTests: XCTestCase {
    func testSlowReaderHoldsTheSenderBack() async throws {
        try await withServer(routes: webSocketRoutes, registry: webSocketTestRegistry()) { server in
            let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(server.port)/flood",
                                                           configuration: WebSocketConfiguration(maxQueuedBytes: 1 << 20))
            // Let the server run into the full pipe: the client's queue (1 MiB), the kernel's
            // socket buffers and the server's 256 KiB output queue, far below 1,000 × 64 KiB.
            try await Task.sleep(for: .seconds(1))
            let sentWhileStalled = Board.shared.value("flood-e2e")
            print("back-pressure: \(sentWhileStalled) of 1000 messages sent while the client did not read")
            XCTAssertLessThan(sentWhileStalled, 500, "the sender must wait for the reader")
            for i in 0..<1000 {
                guard case .binary(let payload)? = await socket.next() else { return XCTFail("connection ended at \(i)") }
                XCTAssertEqual(payload.count, 64 * 1024)
                XCTAssertEqual(Array(payload.prefix(4)), withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }, "message \(i) in order")
            }
            XCTAssertEqual(Board.shared.value("flood-e2e"), 1000)
            await socket.close()
        }
    }
}
