import Quantum
import QuantumTestSupport
import XCTest

/// Caddy JSON that Quantum must accept: every server field, the top-level objects, `@id`.
final class ConfigDecodingTests: XCTestCase {
    func testEveryServerFieldDecodes() throws {
        let server = try Config.srv0("""
        {"apps": {"http": {"servers": {"srv0": {
          "listen": [":8080", "127.0.0.1:8081"],
          "routes": [{"handle": [{"handler": "static_response", "body": "main"}]}],
          "errors": {"routes": [{"handle": [{"handler": "static_response", "body": "oops"}]}]},
          "read_timeout": "10s",
          "read_header_timeout": "2s",
          "write_timeout": "1m",
          "idle_timeout": "5m",
          "keepalive_interval": "15s",
          "max_header_bytes": 32768,
          "automatic_https": {"disable": true, "disable_redirects": true, "skip": ["a.example"]},
          "protocols": ["h1", "h2"],
          "logs": {"default_logger_name": "log0"}
        }}}}}
        """)
        XCTAssertEqual(server.listen, [":8080", "127.0.0.1:8081"])
        XCTAssertEqual(server.routes.routes.count, 1)
        XCTAssertEqual(server.errors?.routes.routes.count, 1)
        XCTAssertEqual(server.readTimeout, CaddyDuration(nanoseconds: 10_000_000_000))
        XCTAssertEqual(server.readHeaderTimeout, CaddyDuration(nanoseconds: 2_000_000_000))
        XCTAssertEqual(server.writeTimeout, CaddyDuration(nanoseconds: 60_000_000_000))
        XCTAssertEqual(server.idleTimeout, CaddyDuration(nanoseconds: 300_000_000_000))
        XCTAssertEqual(server.keepaliveInterval, CaddyDuration(nanoseconds: 15_000_000_000))
        XCTAssertEqual(server.maxHeaderBytes, 32768)
        XCTAssertEqual(server.automaticHTTPS?.disable, true)
        XCTAssertEqual(server.automaticHTTPS?.disableRedirects, true)
        XCTAssertEqual(server.automaticHTTPS?.skip, ["a.example"])
        // tls_connection_policies need certificates to load: see QuantumCoreTests' TLSConfigTests.
        XCTAssertEqual(server.protocols, ["h1", "h2"])
        XCTAssertEqual(server.logs?.defaultLoggerName, "log0")
    }

    func testServerFieldsBecomeConnectionLimits() throws {
        let limits = try Config.srv0(Config.server(routes: "[]", fields: """
        "read_timeout": "10s", "read_header_timeout": "2s", "write_timeout": 3000000000, "idle_timeout": "1m", "max_header_bytes": 4096
        """)).limits
        XCTAssertEqual(limits.readTimeout, 10_000_000_000)
        XCTAssertEqual(limits.readHeaderTimeout, 2_000_000_000)
        XCTAssertEqual(limits.writeTimeout, 3_000_000_000)
        XCTAssertEqual(limits.idleTimeout, 60_000_000_000)
        XCTAssertEqual(limits.http1.maxHeaderBytes, 4096)
    }

    func testCaddyDefaultsApplyWhenFieldsAreAbsent() throws {
        let limits = try Config.srv0(Config.server(routes: "[]")).limits
        XCTAssertEqual(limits.readHeaderTimeout, 60_000_000_000, "Caddy: read_header_timeout defaults to 1m")
        XCTAssertEqual(limits.idleTimeout, 300_000_000_000, "Caddy: idle_timeout defaults to 5m")
        XCTAssertNil(limits.readTimeout)
        XCTAssertNil(limits.writeTimeout)
    }

    func testZeroDurationMeansNoTimeout() throws {
        let limits = try Config.srv0(Config.server(routes: "[]", fields: #""idle_timeout": 0, "read_header_timeout": "0""#)).limits
        XCTAssertNil(limits.idleTimeout)
        XCTAssertNil(limits.readHeaderTimeout)
    }

    func testAdminFieldsAreCheckedByName() throws {
        XCTAssertEqual(Config.loadError(#"{"admin": {"listn": "x"}}"#)?.contains(#"unknown field "listn""#), true)
        XCTAssertEqual(Config.loadError(#"{"admin": {"listen": "localhost:2019-2020"}}"#),
                       "admin.listen: must be exactly one listener address; cannot listen on: localhost:2019-2020")
        XCTAssertEqual(Config.loadError(#"{"admin": {"remote": {}}}"#)?.contains("remote administration"), true)
        XCTAssertEqual(Config.loadError(#"{"admin": {"config": {"load": {}}}}"#)?.contains("config loader module is not supported"), true)
        let quiet = try Config.load(#"{"admin": {"config": {"persist": false}, "origins": ["a:1"], "enforce_origin": true}}"#).config.admin
        XCTAssertEqual(quiet.persist, false)
        XCTAssertEqual(quiet.origins, ["a:1"])
        XCTAssertTrue(quiet.enforceOrigin)
        XCTAssertNil(quiet.listen, "unset: the default applies when the endpoint starts")
    }

    func testAdminLoggingStorageAndOtherAppsAreAccepted() throws {
        let loaded = try Config.load("""
        {"admin": {"disabled": true, "listen": "localhost:2019"},
         "logging": {"logs": {"default": {"level": "DEBUG"}}},
         "storage": {"module": "file_system", "root": "/tmp/x"},
         "apps": {"tls": {"automation": {"policies": []}}, "pki": {}, "events": {},
                  "http": {"servers": {"srv0": {"listen": [":0"]}}}}}
        """)
        XCTAssertTrue(loaded.config.admin.disabled)
        XCTAssertEqual(loaded.config.admin.listen, "localhost:2019")
        XCTAssertEqual(loaded.config.logging.logs["default"]?.level, .debug)
        XCTAssertEqual(loaded.config.storage?.root, "/tmp/x")
        XCTAssertEqual(loaded.config.apps.accepted.keys.sorted(), ["events"])
        XCTAssertNotNil(loaded.config.apps.pki)
        XCTAssertNotNil(loaded.config.apps.tls?.automation)
        XCTAssertNotNil(loaded.config.apps.http?.servers["srv0"])
    }

    func testHTTPAppFieldsDecode() throws {
        let http = try XCTUnwrap(Config.load("""
        {"apps": {"http": {"http_port": 9080, "https_port": 9443, "grace_period": "10s", "shutdown_delay": "1s",
                           "servers": {"srv0": {"listen": [":0"]}}}}}
        """).config.apps.http)
        XCTAssertEqual(http.httpPort, 9080)
        XCTAssertEqual(http.httpsPort, 9443)
        XCTAssertEqual(http.gracePeriod, CaddyDuration(nanoseconds: 10_000_000_000))
        XCTAssertEqual(http.shutdownDelay, CaddyDuration(nanoseconds: 1_000_000_000))
    }

    func testEmptyConfigHasNoHTTPApp() throws {
        XCTAssertNil(try Config.load("{}").config.apps.http)
    }

    func testIDKeysAreIgnoredEverywhere() async throws {
        let json = """
        {"@id": "root", "apps": {"http": {"@id": "app", "servers": {"srv0": {"@id": "server", "listen": [":0"], "routes": [
          {"@id": "route", "match": [{"@id": "set", "path": ["/a"]}],
           "handle": [{"@id": "vars", "handler": "vars", "x": "1"},
                      {"@id": "respond", "handler": "static_response", "body": "vars={http.vars.x} id=[{http.vars.@id}]"}]}
        ]}}}}}
        """
        let server = try Config.srv0(json)
        let (status, body) = try await send(server.routes.compile(), request("/a"))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body, "vars=1 id=[]", "@id must not become a var (an unset one is empty, as in Caddy)")
    }

    func testOtherAtKeysAreUnknownFields() {
        // Caddy strips only "@id"; any other key is an unknown field like any other.
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"@tag": "x"}]"#)),
                       #"apps.http.servers.srv0.routes[0]: unknown field "@tag"; known fields: group, handle, match, terminal"#)
    }

    func testCaddyfileAdapterShapeLoads() async throws {
        // The JSON side of Caddy's handle_path.caddyfiletest adapt fixture.
        let chain = try Config.srv0("""
        {"apps":{"http":{"servers":{"srv0":{"listen":[":0"],"routes":[
          {"match":[{"path":["/api/v1/*"]}],
           "handle":[{"handler":"subroute","routes":[
             {"handle":[{"handler":"rewrite","strip_path_prefix":"/api/v1"}]},
             {"handle":[{"handler":"static_response","body":"API v1 {http.request.uri.path}"}]}]}]}]}}}}}
        """).routes.compile()
        let (status, body) = try await send(chain, request("/api/v1/users"))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body, "API v1 /users")
    }
}
