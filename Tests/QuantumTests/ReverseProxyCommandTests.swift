import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// `quantum reverse-proxy`: the config it builds, its usage errors, and the binary serving it.
final class ReverseProxyCommandTests: XCTestCase {
    func testGeneratedConfigProxiesWithThePolicyAndHeaders() async throws {
        let a = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "A {http.request.hostport} {http.request.header.X-Team}"}]}]"#)
        let b = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "B {http.request.hostport} {http.request.header.X-Team}"}]}]"#)
        let json = try DefaultConfig.reverseProxy(from: "127.0.0.1:0", to: ["http://127.0.0.1:\(a.port)", "127.0.0.1:\(b.port)"],
                                                  policy: "round_robin", changeHostHeader: true,
                                                  headerUp: [("X-Team", "blue")], headerDown: [("X-Proxied", "yes")])
        let proxy = try await TestServer.start(json)
        var seen: [String] = []
        for _ in 0..<4 {
            let client = try RawClient(port: proxy.port)
            client.send("GET / HTTP/1.1\r\nHost: public.test\r\nConnection: close\r\n\r\n")
            let r = try XCTUnwrap(client.readResponse())
            XCTAssertEqual(r.header("X-Proxied"), "yes")
            seen.append(r.bodyText)
        }
        // --change-host-header sends the upstream's own address as Host.
        let expectA = "A 127.0.0.1:\(a.port) blue", expectB = "B 127.0.0.1:\(b.port) blue"
        XCTAssertEqual(Set(seen), [expectA, expectB])
        XCTAssertNotEqual(seen[0], seen[1], "round robin alternates")
        await proxy.stop(); await a.stop(); await b.stop()
    }

    func testHostInFromAddsAHostMatcher() throws {
        let json = try DefaultConfig.reverseProxy(from: "example.test:8080", to: [":9000"], policy: nil, changeHostHeader: false,
                                                  headerUp: [], headerDown: [])
        let loaded = try ConfigLoader.load(json: json, registry: StandardModules.registry)
        XCTAssertEqual(loaded.config.apps.http?.servers["proxy"]?.listen, [":8080"])
        XCTAssertTrue(json.contains(#""match": [{"host": ["example.test"]}]"#), json)
        XCTAssertTrue(json.contains(#"{"dial": "127.0.0.1:9000"}"#), json)
    }

    func testUsageErrors() async {
        let noTarget = await CLITests.quantum(["reverse-proxy", "--from", ":0"])
        XCTAssertEqual(noTarget.status, 2)
        XCTAssertTrue(noTarget.err.contains("needs at least one --to"), noTarget.err)
        let badPolicy = await CLITests.quantum(["reverse-proxy", "--to", ":9000", "--lb", "fastest"])
        XCTAssertEqual(badPolicy.status, 2)
        XCTAssertTrue(badPolicy.err.contains(#"unknown --lb policy "fastest"; known: client_ip_hash"#), badPolicy.err)
        let badHeader = await CLITests.quantum(["reverse-proxy", "--to", ":9000", "--header-up", "nocolon"])
        XCTAssertEqual(badHeader.status, 2)
        XCTAssertTrue(badHeader.err.contains(#"should look like "Name: value""#), badHeader.err)
        let https = await CLITests.quantum(["reverse-proxy", "--to", "https://127.0.0.1:9000"])
        XCTAssertEqual(https.status, 2)
        XCTAssertTrue(https.err.contains("https upstreams are not supported yet"), https.err)
        let help = await CLITests.quantum(["help"])
        XCTAssertTrue(help.out.contains("reverse-proxy --to HOST:PORT"), help.out)
    }

    func testBinaryProxies() async throws {
        let binary = CLITests.repo.appendingPathComponent(".build/debug/quantum").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "no built binary at \(binary)")
        let upstream = try await TestServer.start(routes: #"[{"handle": [{"handler": "static_response", "body": "upstream saw {http.request.uri}"}]}]"#)
        let port = try freeTCPPort()
        let (process, stderr) = try CLITests.launch(binary, ["reverse-proxy", "--from", "127.0.0.1:\(port)", "--to", "127.0.0.1:\(upstream.port)"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertEqual(CLITests.firstBody("http://127.0.0.1:\(port)/a?b=c"), "upstream saw /a?b=c")
        let log = stopCleanly(process, stderr: stderr)
        XCTAssertTrue(log.contains("shutting down"), log)
        await upstream.stop()
    }
}
