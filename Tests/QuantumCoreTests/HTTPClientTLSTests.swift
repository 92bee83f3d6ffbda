import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// The HTTP client over TLS (https upstreams, ACME): verified, pooled, refused when untrusted.
final class HTTPClientTLSTests: XCTestCase {
    func testHTTPSWithPoolingAndBodies() async throws {
        let pki = try TestPKI.get()
        let routes = #"[{"handle": [{"handler": "static_response", "body": "{http.request.scheme} {http.request.tls.server_name} {http.request.remote.port} {http.request.method}"}]}]"#
        try await withTLSServer(tlsConfig(pki, routes: routes)) { server in
            var configuration = HTTPClient.Configuration()
            configuration.tls = TLSClientConfiguration(trustRootsFile: pki.cert("ca"), serverName: "a.test")
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            guard let loop = HTTPClient.defaultLoop else { return XCTFail("no loop") }
            var ports: Set<String> = []
            for method in ["GET", "POST", "GET"] {
                let body: RequestBody? = method == "POST" ? RequestBody(bytes: Array(repeating: 7, count: 2_000)) : nil
                let response = try await client.execute(ClientRequest(method: method, target: "/", headers: HTTPFields([("Host", "a.test")]), body: body),
                                                        host: "127.0.0.1", port: server.port, loop: loop)
                let text = String(decoding: try await response.body.collect(upTo: 1 << 16), as: UTF8.self)
                let parts = text.split(separator: " ")
                XCTAssertEqual(parts.first, "https")
                XCTAssertEqual(parts[1], "a.test", "SNI sent")
                XCTAssertEqual(parts.last.map(String.init), method)
                ports.insert(String(parts[2]))
            }
            XCTAssertEqual(ports.count, 1, "one pooled TLS connection served all three")
            let idle = await client.idleConnectionCount(host: "127.0.0.1", port: server.port, loop: loop)
            XCTAssertEqual(idle, 1)
        }
    }

    func testUntrustedServerFailsAsAConnectError() async throws {
        let pki = try TestPKI.get()
        try await withTLSServer(tlsConfig(pki)) { server in
            var configuration = HTTPClient.Configuration()
            configuration.tls = TLSClientConfiguration(trustRootsFile: pki.cert("rogueca"))
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            do {
                _ = try await client.execute(ClientRequest(headers: HTTPFields([("Host", "a.test")])), host: "127.0.0.1", port: server.port)
                XCTFail("an untrusted certificate must be refused")
            } catch let error as HTTPClientError {
                guard case .connectFailed(let why) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(why.hasPrefix("TLS: "), why)
                XCTAssertTrue(error.isDialError, "nothing reached the server: safe to retry elsewhere")
            }
        }
    }
}
