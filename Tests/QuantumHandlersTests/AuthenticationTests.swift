import Foundation
import Quantum
@testable import QuantumHandlers
@testable import QuantumCore
import QuantumTestSupport
import XCTest

/// `authentication` with `http_basic`: the same config and requests go to Quantum and to
/// Debian's `caddy` 2.6.2, and the answers (status, `WWW-Authenticate`, body) must agree.
final class AuthenticationTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "quantum-auth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    /// Two servers: bcrypt accounts (one stored as base64 of its hash, the older form) with a
    /// realm and an error route, and scrypt accounts with a salt.
    func config(port: Int, scryptPort: Int, admin: Int, bob: String, carol: String, dave: String, salt: String) -> String {
        """
        {"admin": {"listen": "127.0.0.1:\(admin)"},
         "apps": {"http": {"servers": {
          "b": {"listen": ["127.0.0.1:\(port)"], "automatic_https": {"disable": true},
                "routes": [{"handle": [
                  {"handler": "authentication", "providers": {"http_basic": {"realm": "staff only", "hash_cache": {},
                    "accounts": [{"username": "bob", "password": "\(bob)"}, {"username": "carol", "password": "\(carol)"}]}}},
                  {"handler": "static_response", "body": "hello {http.auth.user.id}"}]}],
                "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "{http.error.status_code}: sign in", "status_code": "{http.error.status_code}"}]}]}},
          "s": {"listen": ["127.0.0.1:\(scryptPort)"], "automatic_https": {"disable": true},
                "routes": [{"handle": [
                  {"handler": "authentication", "providers": {"http_basic": {"hash": {"algorithm": "scrypt"},
                    "accounts": [{"username": "dave", "password": "\(dave)", "salt": "\(salt)"}]}}},
                  {"handler": "static_response", "body": "hi {http.auth.user.id}"}]}]}
        }}}}
        """
    }

    func answer(_ port: Int, _ credentials: String?) -> String {
        var args = ["-s", "-D", "-", "http://127.0.0.1:\(port)/"]
        if let credentials { args = ["-H", "Authorization: \(credentials)"] + args }
        let raw = runProcess("curl", args).output
        let status = raw.split(separator: "\r\n").first.map(String.init) ?? ""
        // Field names compare without case (Go writes `Www-Authenticate`).
        let challenge = raw.split(separator: "\r\n").first { $0.lowercased().hasPrefix("www-authenticate:") }
            .map { "www-authenticate:" + $0.dropFirst("www-authenticate:".count) } ?? "-"
        let body = raw.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        return "\(status.split(separator: " ").dropFirst().first ?? "") \(challenge) \(body)"
    }

    func basic(_ user: String, _ password: String) -> String { "Basic " + Base64.encode(Array("\(user):\(password)".utf8)) }

    func testAnswersMatchCaddys() async throws {
        try XCTSkipUnless(DebianCaddy.installed, "Debian's caddy is not installed")
        // Cost 4: the same algorithm at a cost tests can afford (14 takes a second per check).
        let bob = try XCTUnwrap(PasswordHash.bcrypt("bob's secret", cost: 4))
        let carol = Base64.encode(Array(try XCTUnwrap(PasswordHash.bcrypt("carol:has:colons", cost: 4)).utf8))
        let salt = Array("pepper".utf8)
        let dave = Base64.encode(try XCTUnwrap(PasswordHash.defaultScrypt.scrypt("dave pw", salt: salt)))
        let q = (port: freePort(), scrypt: freePort()), c = (port: freePort(), scrypt: freePort(), admin: freePort())
        let server = try await TestServer.start(config(port: q.port, scryptPort: q.scrypt, admin: freePort(), bob: bob, carol: carol, dave: dave,
                                                       salt: Base64.encode(salt)))
        let caddy = try DebianCaddy.start(config(port: c.port, scryptPort: c.scrypt, admin: c.admin, bob: bob, carol: carol, dave: dave,
                                                 salt: Base64.encode(salt)), admin: c.admin, scratch: scratch)
        defer { caddy.terminate(); caddy.waitUntilExit() }
        let cases: [(String, String?)] = [
            ("no credentials", nil), ("right", basic("bob", "bob's secret")), ("right again (cached)", basic("bob", "bob's secret")),
            ("wrong password", basic("bob", "guess")), ("unknown user", basic("mallory", "bob's secret")),
            ("password with colons, base64-wrapped hash", basic("carol", "carol:has:colons")),
            ("lower-case scheme", "basic " + Base64.encode(Array("bob:bob's secret".utf8))),
            ("not base64", "Basic !!!"), ("no colon", "Basic " + Base64.encode(Array("bob".utf8))), ("another scheme", "Bearer abc"),
        ]
        for (what, credentials) in cases {
            let ours = answer(q.port, credentials), theirs = answer(c.port, credentials)
            XCTAssertEqual(ours, theirs, what)
        }
        XCTAssertEqual(answer(q.port, basic("bob", "bob's secret")), "200 - hello bob")
        XCTAssertEqual(answer(q.port, nil), #"401 www-authenticate: Basic realm="staff only" 401: sign in"#)
        for credentials in [basic("dave", "dave pw"), basic("dave", "nope"), nil] {
            XCTAssertEqual(answer(q.scrypt, credentials), answer(c.scrypt, credentials), "scrypt \(credentials ?? "none")")
        }
        XCTAssertEqual(answer(q.scrypt, basic("dave", "dave pw")), "200 - hi dave")
        await server.stop()
    }

    /// A quote in the realm is escaped (Caddy 2.6.2 writes it bare, breaking the quoted string).
    func testTheRealmIsAQuotedString() throws {
        var basic = try JSONDecoder().decode(HTTPBasicAuth.self, from: Data(#"{"realm": "a \"b\" \\ c"}"#.utf8))
        try basic.prepare()
        XCTAssertEqual(basic.challenge, #"Basic realm="a \"b\" \\ c""#)
    }

    /// The access log's `user_id` is the user the handler let through, as Caddy logs it.
    func testTheAccessLogNamesTheUser() async throws {
        let hash = try XCTUnwrap(PasswordHash.bcrypt("pw", cost: 4))
        let log = scratch + "/access.log"
        let port = freePort()
        let server = try await TestServer.start("""
        {"admin": {"disabled": true},
         "logging": {"logs": {"default": {"exclude": ["http.log.access"]},
                              "acc": {"writer": {"output": "file", "filename": "\(log)"}, "include": ["http.log.access"]}}},
         "apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:\(port)"], "automatic_https": {"disable": true}, "logs": {},
           "routes": [{"handle": [{"handler": "authentication", "providers": {"http_basic": {"accounts": [{"username": "bob", "password": "\(hash)"}]}}},
                                  {"handler": "static_response", "body": "ok"}]}]}}}}}
        """)
        XCTAssertEqual(runProcess("curl", ["-s", "-u", "bob:pw", "http://127.0.0.1:\(port)/"]).output, "ok")
        XCTAssertEqual(runProcess("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"]).output, "401")
        await server.stop()
        let entries = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        XCTAssertEqual(entries.map { $0["user_id"] as? String }, ["bob", ""])
        XCTAssertEqual(entries.map { $0["status"] as? Int }, [200, 401])
    }

    func testConfigErrorsNameTheField() {
        func load(_ basic: String) -> String {
            do {
                _ = try ConfigLoader.load(json: Array("""
                {"apps": {"http": {"servers": {"s": {"listen": ["127.0.0.1:0"], "routes": [{"handle": [
                  {"handler": "authentication", "providers": {"http_basic": \(basic)}}]}]}}}}}
                """.utf8), registry: StandardModules.registry)
                return ""
            } catch { return "\(error)" }
        }
        XCTAssertTrue(load(#"{"accounts": [{"username": "a", "password": "not base64!"}]}"#).contains("accounts[0].password: not a password hash"))
        XCTAssertTrue(load(#"{"accounts": [{"username": "a", "password": "$2a$04$x"}, {"username": "a", "password": "$2a$04$y"}]}"#)
            .contains("accounts[1].username: \"a\" is listed twice"))
        XCTAssertTrue(load(#"{"hash": {"algorithm": "argon2id"}}"#).contains("unknown hash algorithm \"argon2id\""))
        XCTAssertTrue(load(#"{"acounts": []}"#).contains("acounts"))
        XCTAssertTrue(load(#"{"hash": {"algorithm": "scrypt", "N": 3}}"#).contains("scrypt needs N a power of two"))
        XCTAssertTrue(load(#"{"hash": {"algorithm": "scrypt", "N": 1048576, "r": 64}}"#).contains("at most 1 GiB"))
        XCTAssertEqual(load(#"{"accounts": [{"username": "a", "password": "$2a$04$abcdefghijklmnopqrstuu"}]}"#), "")
    }
}
