import Quantum
import QuantumTestSupport
import XCTest

/// A handler defined outside QuantumCore, the way a user of the library writes one.
struct ShoutHandler: HandlerModule {
    static let moduleID = "http.handlers.shout"
    var word: Template
    var times: Int?

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let text = Array(repeating: word.render(request, context).uppercased(), count: times ?? 1).joined(separator: " ")
        var response = try await next(request, context)
        response.headers.set("X-Shout", text)
        return response
    }

    func validate() throws {
        if let times, times < 1 { throw ConfigError(path: "", "times must be at least 1") }
    }
}

final class CustomHandlerTests: XCTestCase {
    func registry() -> ModuleRegistry {
        var r = StandardModules.registry
        r.register(ShoutHandler.self)
        return r
    }

    func testRegisteredHandlerRunsFromJSONConfig() async throws {
        let server = try await TestServer.start(routes: """
        [{"handle": [{"handler": "shout", "word": "{http.request.uri.query.w}", "times": 2},
                     {"handler": "static_response", "body": "ok"}]}]
        """, registry: registry())
        let client = try RawClient(port: server.port)
        client.send("GET /?w=hey HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.header("X-Shout"), "HEY HEY")
        XCTAssertEqual(response?.bodyText, "ok")
        await server.stop()
    }

    func testListedAndValidated() async throws {
        XCTAssertTrue(registry().moduleIDs.contains("http.handlers.shout"))
        XCTAssertThrowsError(try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "routes": [{"handle": [{"handler": "shout", "word": "x", "times": 0}]}]}}}}}
        """, registry: registry())) { error in
            XCTAssertEqual("\(error)", "apps.http.servers.s.routes[0].handle[0]: shout: times must be at least 1")
        }
    }

    func testUnknownFieldOfCustomHandlerIsRejected() {
        XCTAssertThrowsError(try ConfigLoader.load(json: """
        {"apps": {"http": {"servers": {"s": {"listen": [":0"], "routes": [{"handle": [{"handler": "shout", "wrd": "x"}]}]}}}}}
        """, registry: registry())) { error in
            XCTAssertTrue("\(error)".hasPrefix("apps.http.servers.s.routes[0].handle[0]"), "\(error)")
        }
    }
}
