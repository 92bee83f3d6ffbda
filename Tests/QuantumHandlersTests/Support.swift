import Foundation
import Quantum
import QuantumTestSupport
import XCTest

/// Helpers for this target: load routes in memory, build requests, call curl against a TestServer.
enum Routes {
    static func config(_ routes: String, errors: String? = nil) -> String {
        let errorsJSON = errors.map { #", "errors": {"routes": \#($0)}"# } ?? ""
        return #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": \#(routes)\#(errorsJSON)}}}}}"#
    }

    static func server(_ routes: String, errors: String? = nil, registry: ModuleRegistry = StandardModules.registry) throws -> ServerConfig {
        let loaded = try ConfigLoader.load(json: config(routes, errors: errors), registry: registry)
        return try XCTUnwrap(loaded.config.apps.http?.servers["srv0"])
    }

    /// A runtime as a connection uses it: the routes, and errors to the error routes.
    static func runtime(_ routes: String, errors: String? = nil, registry: ModuleRegistry = StandardModules.registry) throws -> ServerRuntime {
        let s = try server(routes, errors: errors, registry: registry)
        return ServerRuntime(name: "srv0", limits: s.limits, routes: s.routes, errors: s.errors?.routes)
    }

    /// The error loading these routes throws, as text.
    static func loadError(_ routes: String) -> String? {
        do { _ = try server(routes); return nil } catch { return "\(error)" }
    }
}

/// A request as a connection would build it; `target` may carry a query (`/a?b=c`).
func request(_ target: String, method: String = "GET", host: String = "example.com",
             headers: [(String, String)] = [], body: [UInt8]? = nil) -> Request {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var fields = HTTPFields([("Host", host)])
    for (name, value) in headers { fields.add(name, value) }
    return Request(method: method, rawPath: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                   headers: fields, host: host, body: body.map { RequestBody(bytes: $0) } ?? .empty)
}

/// The response to `request` and its body text.
func send(_ runtime: ServerRuntime, _ request: Request) async throws -> (response: Response, body: String) {
    let response = await runtime.respond(request, context: Context())
    return (response, try await bodyText(response))
}

/// `curl -s -i` against a test server: status, headers (name lowercased → values) and body.
struct CurlResult {
    var status = 0
    var headers: [(String, String)] = []
    var body = ""
    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
    func values(_ name: String) -> [String] { headers.filter { $0.0 == name.lowercased() }.map(\.1) }
}

func curl(_ port: Int, _ path: String, _ extra: [String] = []) -> CurlResult {
    let output = runProcess("curl", ["-s", "-i", "--max-time", "5"] + extra + ["http://127.0.0.1:\(port)\(path)"]).output
    var result = CurlResult()
    guard let split = output.range(of: "\r\n\r\n") else { return result }
    let head = output[..<split.lowerBound].components(separatedBy: "\r\n")
    result.body = String(output[split.upperBound...])
    result.status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        result.headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    return result
}

/// A test handler that reads the whole request body and answers with its size.
struct ReadBody: HandlerModule {
    static let moduleID = "http.handlers.test_read_body"

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        var count = 0
        while let chunk = try await request.body.next() { count += chunk.count }
        return .text("read \(count) bytes")
    }
}

/// The standard modules plus `test_read_body`.
var registryWithBodyReader: ModuleRegistry {
    var r = StandardModules.registry
    r.register(ReadBody.self)
    return r
}
