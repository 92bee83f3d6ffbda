import Quantum
import QuantumTestSupport
import XCTest

/// Loads one matcher set (a JSON object like `{"path": ["/a*"]}`) through the config loader,
/// the way a route's `match` gets it.
func matcherSet(_ json: String) throws -> MatcherSet {
    let config = #"{"apps": {"http": {"servers": {"srv0": {"listen": [":0"], "routes": [{"match": [\#(json)]}]}}}}}"#
    let loaded = try ConfigLoader.load(json: config, registry: StandardModules.registry)
    return try XCTUnwrap(loaded.config.apps.http?.servers["srv0"]?.routes.routes.first?.match.sets.first)
}

/// The error loading a matcher set throws, as text.
func matcherError(_ json: String) -> String? {
    do { _ = try matcherSet(json); return nil } catch { return "\(error)" }
}

/// A request as a connection would build it; `target` may carry a query (`/a?b=c`).
func request(_ target: String, method: String = "GET", host: String = "example.com", headers: [(String, String)] = [],
             proto: String = "HTTP/1.1", remote: String = "127.0.0.1", tls: Bool = false) -> Request {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var fields = HTTPFields([("Host", host)])
    for (name, value) in headers { fields.add(name, value) }
    let connection = ConnectionInfo(remoteAddress: SocketAddress(ip: remote, port: 40000)!,
                                    localAddress: SocketAddress(ip: "127.0.0.1", port: 8080)!, isTLS: tls)
    return Request(method: method, rawPath: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                   proto: proto, headers: fields, host: host, connection: connection)
}

extension MatcherSet {
    /// Whether the set matches `request` in a fresh context.
    func matches(_ request: Request) throws -> Bool {
        var context = Context()
        return try matches(request, context: &context)
    }
}

/// Checks a table of (request, expected) against one matcher set.
func check(_ set: MatcherSet, _ table: [(Request, Bool)], _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
    for (request, expected) in table {
        let got = try set.matches(request)
        XCTAssertEqual(got, expected, "\(label) vs \(request.method) \(request.host) \(request.uri) \(request.headers.fields.map { "\($0.name): \($0.value)" })",
                       file: file, line: line)
    }
}
