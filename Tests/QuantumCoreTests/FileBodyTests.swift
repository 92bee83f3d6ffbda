import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// A request body read from a file while it is sent.
final class FileBodyTests: XCTestCase {
    func testFileBodyUploadsEveryByteWithItsLength() async throws {
        let path = NSTemporaryDirectory() + "quantum-file-body-\(UUID().uuidString)"
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(3 << 20) + 12345).map { _ in UInt8.random(in: 0...255, using: &generator) }
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        defer { unlink(path) }
        let server = try await TestServer.start(routes: #"[{"handle": [{"handler": "test_echo", "mode": "collect"}]}]"#, registry: coreTestRegistry())
        let body = try RequestBody(contentsOfFile: path)
        XCTAssertEqual(body.knownLength, bytes.count)
        let response = try await HTTPClient().execute(ClientRequest(method: "PUT", target: "/", headers: HTTPFields([("Host", "x")]), body: body),
                                                      host: "127.0.0.1", port: server.port)
        XCTAssertEqual(response.headers["x-known-length"], String(bytes.count), "sent with its Content-Length")
        let echoed = try await response.body.collect(upTo: 8 << 20)
        XCTAssertEqual(echoed.count, bytes.count)
        XCTAssertTrue(echoed == bytes, "byte-exact")
        await server.stop()
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try RequestBody(contentsOfFile: "/nonexistent/quantum-file-body"))
    }
}
