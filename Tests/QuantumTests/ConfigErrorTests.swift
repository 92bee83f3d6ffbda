import Quantum
import QuantumTestSupport
import XCTest

/// A bad config does not load, and the one message names the JSON path and the reason.
final class ConfigErrorTests: XCTestCase {
    static let serverFields = "automatic_https, client_ip_headers, enable_full_duplex, errors, idle_timeout, keepalive_count, "
        + "keepalive_idle, keepalive_interval, listen, listener_wrappers, logs, max_header_bytes, metrics, named_routes, protocols, "
        + "read_header_timeout, read_timeout, routes, strict_sni_host, tls_connection_policies, trusted_proxies, trusted_proxies_strict, write_timeout"
    /// The known names the messages list: every standard module, sorted.
    static let handlers = StandardModules.registry.names(in: "http.handlers").joined(separator: ", ")
    static let matchers = StandardModules.registry.names(in: "http.matchers").joined(separator: ", ")

    func testKnownNamesAreTheStandardModules() {
        XCTAssertEqual(Self.handlers, "authentication, copy_response, copy_response_headers, encode, error, file_server, file_sync, headers, invoke, map, metrics, request_body, reverse_proxy, rewrite, static_response, subroute, vars, websocket_echo")
        XCTAssertTrue(Self.matchers.hasPrefix("client_ip, expression, file, header, header_regexp, host, method, not, path"), Self.matchers)
    }

    func testUnknownServerField() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""read_timout": "5s""#)),
                       #"apps.http.servers.srv0: unknown field "read_timout"; did you mean "read_timeout"?"#)
        // Nothing close: the known fields are listed.
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""colour": "blue""#)),
                       #"apps.http.servers.srv0: unknown field "colour"; known fields: \#(Self.serverFields)"#)
    }

    func testUnknownFieldInsideAHandler() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"handle": [{"handler": "static_response", "bdy": "x"}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].handle[0]: unknown field "bdy"; did you mean "body"?"#)
    }

    func testUnknownFieldInsideAMatcher() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"match": [{"path_regexp": {"pattern": "^/a", "nme": "x"}}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].match[0].path_regexp: unknown field "nme"; did you mean "name"?"#)
    }

    func testUnknownTopLevelField() {
        XCTAssertEqual(Config.loadError(#"{"apps": {}, "adminn": {}}"#),
                       #"unknown field "adminn"; did you mean "admin"?"#)
    }

    func testUnknownHandler() {
        let routes = """
        [{"handle": [{"handler": "static_response"}]}, {"handle": [{"handler": "fle_server", "root": "/srv"}]}]
        """
        XCTAssertEqual(Config.loadError(Config.server(routes: routes)),
                       #"apps.http.servers.srv0.routes[1].handle[0].handler: unknown handler "fle_server"; did you mean "file_server"?"#)
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"handle": [{"handler": "php"}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].handle[0].handler: unknown handler "php"; known: \#(Self.handlers)"#)
    }

    func testMissingHandlerKey() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"handle": [{"body": "x"}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].handle[0]: missing "handler": which handler to use"#)
    }

    func testUnknownMatcher() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"match": [{"host": ["a"]}, {"pth": ["/x"]}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].match[1].pth: unknown matcher "pth"; did you mean "path"?"#)
    }

    func testUnknownMatcherInsideNot() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"match": [{"not": [{"methd": ["GET"]}]}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].match[0].not[0].methd: unknown matcher "methd"; did you mean "method"?"#)
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"match": [{"not": [{"celery": "true"}]}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].match[0].not[0].celery: unknown matcher "celery"; known: \#(Self.matchers)"#)
    }

    func testUnknownApp() {
        XCTAssertEqual(Config.loadError(#"{"apps": {"htp": {}}}"#),
                       #"apps.htp: unknown app "htp"; known: events, http, pki, tls"#)
    }

    func testBadDuration() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""idle_timeout": "5 minutes""#)),
                       #"apps.http.servers.srv0.idle_timeout: invalid duration "5 minutes""#)
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""idle_timeout": true"#)),
                       #"apps.http.servers.srv0.idle_timeout: expected a duration (nanoseconds or a string like "1m30s")"#)
    }

    func testWrongValueType() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""max_header_bytes": "lots""#)),
                       "apps.http.servers.srv0.max_header_bytes: expected an integer, found a string")
        XCTAssertEqual(Config.loadError(#"{"apps": {"http": {"servers": {"srv0": {"listen": ":80"}}}}}"#),
                       "apps.http.servers.srv0.listen: expected an array, found a string")
    }

    func testUnknownProtocol() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]", fields: #""protocols": ["h1", "spdy"]"#)),
                       #"apps.http.servers.srv0.protocols[1]: unknown protocol "spdy"; known: h1, h2, h2c, h3"#)
    }

    func testJSONSyntaxErrorsGiveLineAndColumn() {
        XCTAssertEqual(Config.loadError("{\n  \"apps\": {\n    \"http\": ,\n  }\n}"),
                       "invalid JSON at line 3, column 13: invalid value")
        XCTAssertEqual(Config.loadError("{\"apps\": {}"), "invalid JSON at line 1, column 12: unexpected end of input")
        XCTAssertEqual(Config.loadError("{\"apps\": {},}"), "invalid JSON at line 1, column 13: expected a string key")
        XCTAssertEqual(Config.loadError("{\"apps\": {}, \"apps\": {}}"), "invalid JSON at line 1, column 24: duplicate key \"apps\"")
        XCTAssertEqual(Config.loadError("{} x"), "invalid JSON at line 1, column 4: unexpected data after the document")
    }

    func testDuplicateListenAddressAcrossServers() {
        let json = """
        {"apps": {"http": {"servers": {
          "srv0": {"listen": ["127.0.0.1:8080"]},
          "srv1": {"listen": [":9090", "127.0.0.1:8080"]}}}}}
        """
        XCTAssertEqual(Config.loadError(json), #"apps.http.servers.srv1.listen[1]: 127.0.0.1:8080 is already used by server "srv0""#)
    }

    func testOverlappingPortRangesAcrossServers() {
        let json = #"{"apps": {"http": {"servers": {"a": {"listen": [":8000-8010"]}, "b": {"listen": [":8010"]}}}}}"#
        XCTAssertEqual(Config.loadError(json), #"apps.http.servers.b.listen[0]: :8010 is already used by server "a""#)
    }

    func testPortZeroMayRepeat() {
        let json = #"{"apps": {"http": {"servers": {"a": {"listen": ["127.0.0.1:0"]}, "b": {"listen": ["127.0.0.1:0"]}}}}}"#
        XCTAssertNil(Config.loadError(json))
    }

    func testBadPorts() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]").replacingOccurrences(of: "127.0.0.1:0", with: ":99999")),
                       #"apps.http.servers.srv0.listen[0]: invalid port "99999" in listen address ":99999""#)
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]").replacingOccurrences(of: "127.0.0.1:0", with: ":http")),
                       #"apps.http.servers.srv0.listen[0]: invalid port "http" in listen address ":http""#)
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]").replacingOccurrences(of: "127.0.0.1:0", with: ":9000-8000")),
                       #"apps.http.servers.srv0.listen[0]: invalid port "9000-8000" in listen address ":9000-8000""#)
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]").replacingOccurrences(of: "127.0.0.1:0", with: "localhost")),
                       #"apps.http.servers.srv0.listen[0]: listen address "localhost" has no port"#)
    }

    func testUnsupportedNetwork() {
        XCTAssertEqual(Config.loadError(Config.server(routes: "[]").replacingOccurrences(of: "127.0.0.1:0", with: "unix//run/q.sock")),
                       #"apps.http.servers.srv0.listen[0]: unsupported network "unix" in listen address "unix//run/q.sock" (tcp, tcp4, tcp6 are supported)"#)
    }

    func testServerWithoutListen() {
        XCTAssertEqual(Config.loadError(#"{"apps": {"http": {"servers": {"srv0": {"routes": []}}}}}"#),
                       #"apps.http.servers.srv0.listen: server "srv0" must listen on at least one address"#)
    }

    func testBadStaticResponseStatus() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"handle": [{"handler": "static_response", "status_code": "abc"}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].handle[0].status_code: invalid status code "abc""#)
    }

    func testBadRegexpNamesItsPath() throws {
        let message = try XCTUnwrap(Config.loadError(Config.server(routes: #"[{"match": [{"path_regexp": {"pattern": "(unclosed"}}]}]"#)))
        XCTAssertTrue(message.hasPrefix(#"apps.http.servers.srv0.routes[0].match[0].path_regexp.pattern: invalid regular expression "(unclosed""#), message)
    }

    func testBadIPRangeNamesItsPath() {
        XCTAssertEqual(Config.loadError(Config.server(routes: #"[{"match": [{"remote_ip": {"ranges": ["10.0.0.0/8", "10.0.0.0/33"]}}]}]"#)),
                       #"apps.http.servers.srv0.routes[0].match[0].remote_ip.ranges[1]: invalid IP range "10.0.0.0/33""#)
    }

    /// Values that make no sense are refused with the field's path; negative values Caddy gives
    /// a meaning (flush_interval -1: flush at once) still load.
    func testNonsenseValuesAreRefused() {
        func handler(_ json: String) -> String? { Config.loadError(Config.server(routes: #"[{"handle": [\#(json)]}]"#)) }
        let sync = #"{"handler": "file_sync", "root": "/tmp/quantum-config-nonsense", "#
        XCTAssertEqual(handler(sync + #""tokens": ["ok", ""]}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].tokens[1]: a token cannot be empty (it would let requests with an empty ?token= in)")
        XCTAssertEqual(handler(sync + #""max_upload_size": -1}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].max_upload_size: a size cannot be negative")
        XCTAssertEqual(handler(sync + #""heartbeat_interval": "-1s"}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].heartbeat_interval: heartbeat_interval cannot be negative (-1.0s)")
        XCTAssertEqual(handler(#"{"handler": "websocket_echo", "ping_interval": "-5s"}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].ping_interval: ping_interval cannot be negative (-5.0s)")
        XCTAssertEqual(handler(#"{"handler": "websocket_echo", "max_message_size": -10}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].max_message_size: a size cannot be negative")
        XCTAssertEqual(handler(#"{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:1"}], "transport": {"protocol": "http", "dial_timeout": "-1s"}}"#),
                       "apps.http.servers.srv0.routes[0].handle[0].transport.dial_timeout: dial_timeout cannot be negative (-1.0s)")
        XCTAssertNil(handler(#"{"handler": "reverse_proxy", "upstreams": [{"dial": "127.0.0.1:1"}], "flush_interval": -1}"#))
    }
}
