import Quantum
import QuantumTestSupport
import XCTest

/// `protocol`: http/https by TLS, grpc by content type, and HTTP versions.
final class ProtocolMatcherTests: XCTestCase {
    func testTable() throws {
        let h10 = request("/", proto: "HTTP/1.0"), h11 = request("/"), h2 = request("/", proto: "HTTP/2.0", tls: true)
        let h3 = request("/", proto: "HTTP/3.0", tls: true), tls11 = request("/", tls: true)
        let grpc = request("/", headers: [("Content-Type", "application/grpc+proto")])
        let table: [(String, [(Request, Bool)])] = [
            ("http", [(h11, true), (tls11, false), (h2, false)]),
            ("https", [(h11, false), (tls11, true), (h2, true)]),
            ("grpc", [(grpc, true), (h11, false)]),
            ("http/1.0", [(h10, true), (h11, false)]),
            ("http/1.1", [(h11, true), (h10, false), (h2, false)]),
            ("http/2", [(h2, true), (h11, false), (h3, false)]),
            ("http/2+", [(h2, true), (h3, true), (h11, false)]),
            ("http/3", [(h3, true), (h2, false)]),
            ("http/1.0+", [(h10, true), (h11, true), (h2, true)]),
            ("http/1.1+", [(h10, false), (h11, true), (h3, true)]),
            ("http/3+", [(h3, true), (h2, false)]),
        ]
        for (proto, rows) in table {
            try check(try matcherSet(#"{"protocol": "\#(proto)"}"#), rows, proto)
        }
    }

    func testUnknownProtocolIsAConfigError() throws {
        let message = try XCTUnwrap(matcherError(#"{"protocol": "gopher"}"#))
        XCTAssertTrue(message.hasPrefix(#"apps.http.servers.srv0.routes[0].match[0].protocol: unknown protocol "gopher""#), message)
    }
}
