@testable import QuantumCore
import XCTest

/// The access entry's two writers — the literal-by-literal JSON one the server uses for Caddy's
/// default encoder, and `LogLine`'s, which the console and filter encoders go through — must write
/// the same bytes; `AccessLogTests` holds the JSON one to Caddy's own entries.
final class AccessEntryTests: XCTestCase {
    func entry(tls: Bool, credentials: Bool, status: Int, server: String?) -> AccessEntry {
        let fields = HTTPFields([("Host", "example.com"), ("user-agent", "probe <1.0> & \"quoted\"\t\u{2028}é"), ("Cookie", "a=1"),
                                 ("X-Twice", "one"), ("x-twice", "two"), ("Authorization", "Basic eA=="), ("weird_name", "\u{1}")])
        let info = tls ? TLSInfo(version: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", serverName: "exa\"mple.com",
                                 applicationProtocol: "h2", resumed: true, clientCertificate: nil, versionNumber: 772, cipherSuiteID: 4865) : nil
        let connection = ConnectionInfo(remoteAddress: SocketAddress(ip: "::1", port: 51234)!,
                                        localAddress: SocketAddress(ip: "::1", port: 443)!, tls: info)
        let request = Request(method: "PO\"ST", rawPath: "/a/<b>", query: "x=1&token=secret&y", proto: tls ? "HTTP/2.0" : "HTTP/1.1",
                              headers: fields, host: "example.com:8443", connection: connection)
        return AccessEntry(request: request, level: status >= 400 ? .error : .info, wallNanos: 1_796_654_315_413_953_000,
                           credentials: credentials, userID: tls ? "bob \"the\" <admin>" : "", duration: 31_298, size: 1234, status: status,
                           headers: HTTPFields([("Content-Type", "text/plain"), ("set-cookie", "s=1"), ("Set-Cookie", "t=2")]), server: server)
    }

    func testBothWritersWriteTheSameJSON() throws {
        let logger = "http.log.access.my\"site"
        for tls in [false, true] {
            for credentials in [false, true] {
                for (status, server) in [(200, "Quantum" as String?), (503, nil)] {
                    let entry = entry(tls: tls, credentials: credentials, status: status, server: server)
                    var fast = LogBuffer()
                    entry.appendJSON(head: AccessEntry.jsonHead(logger: logger), to: &fast)
                    let general = entry.append(.json, logger: logger, to: LogBuffer())
                    XCTAssertEqual(fast.string, general.string, "tls \(tls), credentials \(credentials), status \(status)")
                    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(fast.string.utf8)) as? [String: Any])
                    XCTAssertEqual(json["logger"] as? String, logger)
                    let request = try XCTUnwrap(json["request"] as? [String: Any])
                    XCTAssertEqual(request["uri"] as? String, "/a/<b>?x=1&token=REDACTED&y")
                    XCTAssertEqual((request["tls"] as? [String: Any])?["server_name"] as? String, tls ? "exa\"mple.com" : nil)
                    let headers = try XCTUnwrap(request["headers"] as? [String: [String]])
                    XCTAssertEqual(headers["X-Twice"], ["one", "two"])
                    XCTAssertEqual(headers["Cookie"], credentials ? ["a=1"] : [])
                    XCTAssertNil(headers["Host"])
                    let response = try XCTUnwrap(json["resp_headers"] as? [String: [String]])
                    XCTAssertEqual(response["Set-Cookie"], credentials ? ["s=1", "t=2"] : [])
                    XCTAssertEqual(response["Server"], server.map { [$0] })
                    XCTAssertEqual(json["level"] as? String, status >= 400 ? "error" : "info")
                    XCTAssertEqual(json["user_id"] as? String, tls ? "bob \"the\" <admin>" : "")
                }
            }
        }
    }

    /// Seconds as Caddy's entries carry them: no exponent, no trailing zeros.
    func testSecondsAreWrittenWithoutTrailingZeros() {
        for (nanos, text) in [(0 as UInt64, "0"), (31_298, "0.000031298"), (1_500_000_000, "1.5"), (2_000_000_000, "2"),
                              (1_796_654_315_413_953_812, "1796654315.413953812"), (100, "0.0000001")] {
            var bytes = LogBuffer(capacity: 1)
            bytes.append(seconds: nanos)
            XCTAssertEqual(bytes.string, text)
        }
    }
}
