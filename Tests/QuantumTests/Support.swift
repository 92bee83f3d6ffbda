import Quantum
import QuantumTestSupport
import XCTest

/// Helpers shared by this target's in-memory tests: load Caddy JSON, build requests.
enum Config {
    /// A one-server config (`srv0` on an OS-chosen port) around a routes array.
    static func server(routes: String, errors: String? = nil, fields: String = "") -> String {
        let errorsJSON = errors.map { #", "errors": {"routes": \#($0)}"# } ?? ""
        let extra = fields.isEmpty ? "" : ", " + fields
        return #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": \#(routes)\#(errorsJSON)\#(extra)}}}}}"#
    }

    static func load(_ json: String) throws -> LoadedConfig {
        try ConfigLoader.load(json: json, registry: StandardModules.registry)
    }

    /// The `srv0` server of a loaded config.
    static func srv0(_ json: String) throws -> ServerConfig {
        let loaded = try load(json)
        return try XCTUnwrap(loaded.config.apps.http?.servers["srv0"])
    }

    /// The compiled primary route chain of `srv0`.
    static func chain(routes: String) throws -> Next {
        try srv0(server(routes: routes)).routes.compile()
    }

    /// A runtime for `srv0` with its error routes, as a connection would use it.
    static func runtime(routes: String, errors: String? = nil) throws -> ServerRuntime {
        let server = try srv0(server(routes: routes, errors: errors))
        return ServerRuntime(name: "srv0", limits: server.limits, routes: server.routes, errors: server.errors?.routes)
    }

    /// The message of the error loading `json` throws, or nil when it loads.
    static func loadError(_ json: String) -> String? {
        do {
            _ = try load(json)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// A request as a connection would build it; `target` may carry a query (`/a?b=c`).
func request(_ target: String, method: String = "GET", host: String = "example.com",
             headers: [(String, String)] = []) -> Request {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    var fields = HTTPFields([("Host", host)])
    for (name, value) in headers { fields.add(name, value) }
    return Request(method: method, rawPath: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                   headers: fields, host: host)
}

/// Status and body of `request` through `chain`.
func send(_ chain: Next, _ request: Request) async throws -> (status: Int, body: String) {
    let response = try await respond(chain, request)
    return (response.status, try await bodyText(response))
}

/// Status and body of `request` through a server runtime (errors go to the error routes).
func send(_ runtime: ServerRuntime, _ request: Request) async throws -> (status: Int, body: String) {
    let response = await runtime.respond(request, context: Context())
    return (response.status, try await bodyText(response))
}
