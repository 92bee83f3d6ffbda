import Foundation
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// The admin API over real HTTP (curl), on an in-process instance: Caddy's endpoints, answers
/// and checks.
final class AdminAPITests: XCTestCase {
    func config(port: Int, body: String, extra: String = "") -> String {
        #"{\#(extra)"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "static_response", "@id": "greeting", "body": "\#(body)"}]}]}}}}}"#
    }

    func withInstance(_ extra: String = "", _ body: (AdminInstance, Int) async throws -> Void) async throws {
        let port = try freeTCPPort()
        let instance = try await AdminInstance.start(config(port: port, body: "A", extra: extra))
        do { try await body(instance, port) } catch { await instance.stop(); throw error }
        await instance.stop()
    }

    func testLoadReplacesTheConfigAndConfigReadsItBack() async throws {
        try await withInstance { admin, port in
            XCTAssertEqual(fetch(port), "A")
            let next = config(port: port, body: "B")
            let load = admin.request("POST", "/load", body: next)
            XCTAssertEqual(load.status, 200, load.body)
            XCTAssertEqual(load.body, "", "a successful load answers with an empty body")
            XCTAssertEqual(fetch(port), "B")
            let read = admin.request("GET", "/config/")
            XCTAssertEqual(read.status, 200)
            XCTAssertEqual(read.headers["content-type"], "application/json")
            XCTAssertEqual(read.body, GoJSON.encode(try JSONParser.parse(Array(next.utf8))), "compact, sorted, with a newline")
            let etag = try XCTUnwrap(read.headers["etag"])
            XCTAssertTrue(etag.hasPrefix("\"/config/ ") && etag.hasSuffix("\"") && etag.count == "\"/config/ \"".count + 8, etag)
            let saved = try String(contentsOfFile: admin.autosave, encoding: .utf8)
            XCTAssertEqual(saved, read.body, "the loaded config is saved for --resume")
        }
    }

    func testAConfigThatDoesNotLoadChangesNothing() async throws {
        try await withInstance { admin, port in
            let before = admin.request("GET", "/config/").body
            let broken = admin.request("POST", "/load", body: #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "no_such_handler"}]}]}}}}}"#)
            XCTAssertEqual(broken.status, 400)
            XCTAssertTrue(broken.body.hasPrefix(#"{"error":"loading config: "#), broken.body)
            XCTAssertTrue(broken.body.contains("no_such_handler"), broken.body)
            let notJSON = admin.request("POST", "/load", body: "{nope")
            XCTAssertEqual(notJSON.status, 400)
            XCTAssertEqual(fetch(port), "A", "the old config still serves")
            XCTAssertEqual(admin.request("GET", "/config/").body, before, "and is still what the API reads")
            let adapter = admin.request("POST", "/load", body: ":80", contentType: "text/x-nginx")
            XCTAssertEqual(adapter.status, 400)
            XCTAssertEqual(adapter.body, #"{"error":"unrecognized config adapter 'x-nginx'"}"# + "\n")
            XCTAssertEqual(admin.request("GET", "/load").status, 405)
        }
    }

    func testConfigPathsEditTheRunningConfig() async throws {
        try await withInstance { admin, port in
            let listen = admin.request("GET", "/config/apps/http/servers/srv0/listen/0")
            XCTAssertEqual(listen.body, "\"127.0.0.1:\(port)\"\n")
            XCTAssertEqual(admin.request("GET", "/config/apps/nothing").body, "null\n")
            let route = #"{"match": [{"path": ["/new"]}], "handle": [{"handler": "static_response", "body": "new"}]}"#
            XCTAssertEqual(admin.request("PUT", "/config/apps/http/servers/srv0/routes/0", body: route).status, 200)
            XCTAssertEqual(fetch(port, "/new"), "new", "a route inserted through the API serves at once")
            XCTAssertEqual(fetch(port, "/other"), "A")
            XCTAssertEqual(admin.request("PATCH", "/config/apps/http/servers/srv0/routes/1/handle/0/body", body: "\"patched\"").status, 200)
            XCTAssertEqual(fetch(port, "/other"), "patched")
            XCTAssertEqual(admin.request("DELETE", "/config/apps/http/servers/srv0/routes/0").status, 200)
            XCTAssertEqual(fetch(port, "/new"), "patched")
            let exists = admin.request("PUT", "/config/apps/http", body: "{}")
            XCTAssertEqual(exists.status, 409, exists.body)
            XCTAssertEqual(admin.request("PATCH", "/config/apps/pki", body: "{}").status, 404)
            let type = admin.request("POST", "/config/apps/http/grace_period", body: "\"1s\"", contentType: "text/plain")
            XCTAssertEqual(type.status, 400)
            XCTAssertEqual(type.body, #"{"error":"unacceptable content-type: text/plain; 'application/json' required"}"# + "\n")
        }
    }

    func testIDsReachTheirObjects() async throws {
        try await withInstance { admin, port in
            let object = admin.request("GET", "/id/greeting")
            XCTAssertEqual(object.body, #"{"@id":"greeting","body":"A","handler":"static_response"}"# + "\n")
            XCTAssertEqual(admin.request("PATCH", "/id/greeting/body", body: "\"by id\"").status, 200)
            XCTAssertEqual(fetch(port), "by id")
            let unknown = admin.request("GET", "/id/nope")
            XCTAssertEqual(unknown.status, 404)
            XCTAssertEqual(unknown.body, #"{"error":"unknown object ID 'nope'"}"# + "\n")
        }
    }

    func testIfMatchRefusesAStaleHash() async throws {
        try await withInstance { admin, port in
            let etag = try XCTUnwrap(admin.request("GET", "/config/apps/http/servers/srv0/routes").headers["etag"])
            let first = admin.request("POST", "/config/apps/http/servers/srv0/routes",
                                      body: #"{"handle": [{"handler": "static_response", "body": "x"}]}"#, headers: ["If-Match: " + etag])
            XCTAssertEqual(first.status, 200, first.body)
            let stale = admin.request("POST", "/config/apps/http/servers/srv0/routes",
                                      body: #"{"handle": [{"handler": "static_response", "body": "y"}]}"#, headers: ["If-Match: " + etag])
            XCTAssertEqual(stale.status, 412, stale.body)
            XCTAssertEqual(admin.request("GET", "/config/apps/http/servers/srv0/routes").body.components(separatedBy: "static_response").count - 1, 2,
                           "the stale change was not applied")
            XCTAssertEqual(fetch(port), "A")
        }
    }

    func testHostAndOriginAreChecked() async throws {
        try await withInstance { admin, port in
            let host = admin.request("GET", "/config/", headers: ["Host: evil.example"])
            XCTAssertEqual(host.status, 403)
            XCTAssertEqual(host.body, #"{"error":"host not allowed: evil.example"}"# + "\n")
            XCTAssertEqual(admin.request("GET", "/config/", headers: ["Host: localhost:\(admin.adminPort)"]).status, 200)
            let origin = admin.request("POST", "/stop", headers: ["Origin: http://evil.example"])
            XCTAssertEqual(origin.status, 403, "a page elsewhere cannot stop the server, even without enforce_origin")
            XCTAssertEqual(origin.body, #"{"error":"client is not allowed to access from origin 'http://evil.example'"}"# + "\n")
            XCTAssertEqual(fetch(port), "A")
            XCTAssertEqual(admin.request("GET", "/config/", headers: ["Origin: http://127.0.0.1:\(admin.adminPort)"]).status, 200)
        }
        try await withInstance(#""admin": {"listen": "127.0.0.1:0", "enforce_origin": true, "origins": ["https://ops.example"]}, "#) { admin, _ in
            XCTAssertEqual(admin.request("GET", "/config/", headers: ["Host: ops.example"]).status, 403, "no Origin, enforced")
            XCTAssertEqual(admin.request("GET", "/config/", headers: ["Host: ops.example", "Origin: http://ops.example"]).status, 403,
                           "the scheme must match")
            XCTAssertEqual(admin.request("GET", "/config/", headers: ["Host: ops.example", "Origin: https://ops.example"]).status, 200)
        }
    }

    func testATakenAdminAddressIsAClearError() async throws {
        let first = try await AdminInstance.start(config(port: try freeTCPPort(), body: "A", extra: #""admin": {"listen": "127.0.0.1:0"}, "#))
        do {
            let taken = #""admin": {"listen": "127.0.0.1:\#(first.adminPort)"}, "#
            do {
                let second = try await AdminInstance.start(config(port: try freeTCPPort(), body: "B", extra: taken))
                await second.stop()
                XCTFail("a second instance on the same admin address must not start")
            } catch {
                XCTAssertTrue("\(error)".contains("cannot listen on 127.0.0.1:\(first.adminPort) for the admin API"), "\(error)")
            }
        }
        await first.stop()
    }

    func testMovingTheAdminEndpointThroughTheAPI() async throws {
        try await withInstance { admin, port in
            let newPort = try freeTCPPort()
            let moved = admin.request("POST", "/load", body: config(port: port, body: "C", extra: #""admin": {"listen": "127.0.0.1:\#(newPort)"}, "#))
            XCTAssertEqual(moved.status, 200, moved.body)
            XCTAssertEqual(fetch(port), "C")
            let there = AdminAnswer.curl(port: newPort, "GET", "/config/admin/listen")
            XCTAssertEqual(there.body, "\"127.0.0.1:\(newPort)\"\n")
        }
    }

    /// Issue 19's reload test: four clients (two keep-alive) for 15 s while ten `POST /load`s
    /// alternate two configs — no request fails; a WebSocket opened before keeps echoing.
    func testReloadsOverTheAPIDropNothing() async throws {
        let port = try freeTCPPort()
        func site(_ body: String) -> String {
            #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"match": [{"path": ["/echo"]}], "handle": [{"handler": "websocket_echo"}], "terminal": true}, {"handle": [{"handler": "static_response", "body": "\#(body)"}]}]}}}}}"#
        }
        let admin = try await AdminInstance.start(site("v-even"))
        let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:\(port)/echo")
        let load = RequestLoad(port: port, clients: 4, prefix: "v-")
        for round in 1...10 {
            try await Task.sleep(nanoseconds: 1_400_000_000)
            let answer = admin.request("POST", "/load", body: site(round % 2 == 0 ? "v-even" : "v-odd"))
            XCTAssertEqual(answer.status, 200, answer.body)
            if round <= 3 {
                try await socket.send(.text("after \(round)"))
                let echoed = await socket.next()
                XCTAssertTrue(echoed == .text("after \(round)"), "the WebSocket echoes after reload \(round)")
            }
        }
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let result = await load.stop()
        XCTAssertEqual(result.failures, [], "no request failed across ten reloads")
        XCTAssertGreaterThan(result.answered, 100)
        XCTAssertEqual(fetch(port), "v-even")
        await socket.close(code: .normal, reason: "done")
        await admin.stop()
    }
}

/// What modules and the PKI app add to the admin API.
final class AdminEndpointsTests: XCTestCase {
    func testPKIAnswersForTheLocalCA() async throws {
        let data = NSTemporaryDirectory() + "quantum-admin-pki-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let port = try freeTCPPort()
        let admin = try await AdminInstance.start(#"{"storage": {"module": "file_system", "root": "\#(data)"}, "apps": {"pki": {"certificate_authorities": {"corp": {"name": "Corp CA"}}}, "http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"]}}}}}"#)
        let info = admin.request("GET", "/pki/ca/corp")
        XCTAssertEqual(info.status, 200, info.body)
        XCTAssertEqual(info.headers["content-type"], "application/json")
        let object = try JSONParser.parse(Array(info.body.utf8))
        XCTAssertEqual(object["id"], .string("corp"))
        XCTAssertEqual(object["name"], .string("Corp CA"))
        XCTAssertTrue(info.body.hasPrefix(#"{"id":"corp","name":"Corp CA","root_common_name":"#), "Caddy's field order: \(info.body)")
        guard case .string(let root)? = object["root_certificate"], case .string(let intermediate)? = object["intermediate_certificate"] else {
            return XCTFail(info.body)
        }
        XCTAssertTrue(root.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let chain = admin.request("GET", "/pki/ca/corp/certificates")
        XCTAssertEqual(chain.headers["content-type"], "application/pem-certificate-chain")
        XCTAssertEqual(chain.body, intermediate + root)
        // The chain verifies with openssl: the intermediate is signed by the root.
        let rootFile = data + "/root.pem", interFile = data + "/inter.pem"
        try root.write(toFile: rootFile, atomically: true, encoding: .utf8)
        try intermediate.write(toFile: interFile, atomically: true, encoding: .utf8)
        let verify = runProcess("openssl", ["verify", "-CAfile", rootFile, interFile])
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertEqual(admin.request("GET", "/pki/ca/local").status, 200, "local exists even unconfigured, as in Caddy")
        let unknown = admin.request("GET", "/pki/ca/nope")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.body, #"{"error":"no certificate authority configured with id: nope"}"# + "\n")
        XCTAssertEqual(admin.request("POST", "/pki/ca/corp").body, #"{"error":"method not allowed: POST"}"# + "\n")
        await admin.stop()
    }

    func testUpstreamsListWhatTheRunningConfigProxiesTo() async throws {
        let port = try freeTCPPort()
        let proxy = #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:9"}, {"dial": "localhost:10"}]}]}]}}}}}"#
        let admin = try await AdminInstance.start(proxy)
        let listed = admin.request("GET", "/reverse_proxy/upstreams")
        XCTAssertEqual(listed.status, 200)
        // (Other tests' proxies may be listed too while their configs run: only these two are asserted.)
        XCTAssertTrue(listed.body.hasPrefix("[") && listed.body.hasSuffix("]\n"), listed.body)
        XCTAssertTrue(listed.body.contains(#"{"address":"127.0.0.1:9","num_requests":0,"fails":0}"#), listed.body)
        XCTAssertTrue(listed.body.contains(#"{"address":"localhost:10","num_requests":0,"fails":0}"#), listed.body)
        XCTAssertEqual(admin.request("POST", "/reverse_proxy/upstreams").status, 405)
        let plain = #"{"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\#(port)"], "routes": [{"handle": [{"handler": "static_response"}]}]}}}}}"#
        XCTAssertEqual(admin.request("POST", "/load", body: plain).status, 200)
        let after = admin.request("GET", "/reverse_proxy/upstreams").body
        XCTAssertFalse(after.contains("127.0.0.1:9\"") || after.contains("localhost:10"), "gone with the config that used them: \(after)")
        XCTAssertEqual(admin.request("GET", "/nothing/here").status, 404)
        await admin.stop()
    }
}
