@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// `HTTPClient.startOnIdleConnection`: the caller writes the head straight into a pooled
/// connection's output and gets the answer by callback on the loop — whole, when its body came
/// with its head; streaming otherwise.
final class HTTPClientCallbackTests: XCTestCase {
    var loop: EventLoop { HTTPClient.defaultLoop! }

    /// Sends `head` on an idle connection; nil when none was at hand (nothing was written).
    func exchange(_ client: HTTPClient, port: Int, head: String) async -> Result<ClientResponse, HTTPClientError>? {
        let loop = self.loop
        return await withCheckedContinuation { (c: CheckedContinuation<Result<ClientResponse, HTTPClientError>?, Never>) in
            loop.execute {
                let sent = client.startOnIdleConnection(host: "127.0.0.1", port: port, loop: loop) { bytes in
                    bytes.append(contentsOf: Array(head.utf8))
                } completion: { result in
                    c.resume(returning: result)
                }
                if sent == nil { c.resume(returning: nil) }
            }
        }
    }

    func testAnswersComeByCallbackWholeWhenSmallAndStreamedWhenNot() async throws {
        try await withServer(routes: HTTPClientTests.routes, registry: coreTestRegistry()) { server in
            let client = HTTPClient()
            defer { client.shutdown() }
            let none = await exchange(client, port: server.port, head: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertNil(none, "no pooled connection yet: nothing is sent")

            // An exchange through `execute` leaves one in the pool.
            let first = try await client.execute(ClientRequest(target: "/hello", headers: HTTPFields([("Host", "x")])),
                                                 host: "127.0.0.1", port: server.port, loop: loop)
            _ = try await first.body.collect(upTo: 1 << 20)

            let answered = await exchange(client, port: server.port, head: "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let small = try XCTUnwrap(answered).get()
            XCTAssertEqual(small.status, 201)
            XCTAssertEqual(small.headers["x-test"], "yes")
            XCTAssertEqual(small.completeBody.map { String(decoding: $0, as: UTF8.self) }, "hello, world")
            XCTAssertEqual(small.body.knownLength, 0, "the whole body is in completeBody, not the stream")
            let reused = await client.idleConnectionCount(host: "127.0.0.1", port: server.port, loop: loop)
            XCTAssertEqual(reused, 1, "the exchange was over at once: the connection is back in the pool")

            // 2 MiB cannot come with its head: it streams, whole.
            let streamed = await exchange(client, port: server.port, head: "GET /medium HTTP/1.1\r\nHost: x\r\n\r\n")
            let big = try XCTUnwrap(streamed).get()
            XCTAssertEqual(big.status, 200)
            XCTAssertNil(big.completeBody)
            XCTAssertEqual(big.body.knownLength, 2_097_152)
            let bytes = try await big.body.collect(upTo: 1 << 22)
            XCTAssertEqual(bytes.count, 2_097_152)
        }
    }
}
