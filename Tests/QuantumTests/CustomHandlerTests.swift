import Foundation
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

    /// Registration refuses what could never work: an ID outside the namespaces configs load
    /// from, and a second module under a taken ID (unless replacing on purpose).
    func testRegistrationRefusesStrayAndTakenIDs() {
        let r = registry()
        XCTAssertNil(r.registrationProblem("http.handlers.new_one"))
        XCTAssertNil(r.registrationProblem("http.matchers.new_one"))
        XCTAssertEqual(r.registrationProblem("http.handlers.shout"),
                       #"module ID "http.handlers.shout" is already registered; register(_:replacing: true) replaces it"#)
        XCTAssertNil(r.registrationProblem("http.handlers.shout", replacing: true))
        for stray in ["handlers.shout", "http.handler.shout", "shout", "http.handlers.", "caddy.storage.redis"] {
            XCTAssertEqual(r.registrationProblem(stray),
                           #"module ID "\#(stray)" is not in a namespace modules load from (http.handlers, http.matchers)"#)
        }
        var replaced = r
        replaced.register(ShoutHandler.self, replacing: true)
        XCTAssertTrue(replaced.moduleIDs.contains("http.handlers.shout"))
    }

    /// The README's handler example is `Examples/CustomHandler/` file for file, and that package
    /// builds on its own against this checkout (a fresh build folder: what a user gets).
    func testTheReadmeExampleIsTheExamplePackageAndItBuilds() throws {
        let repo = CLITests.repo.path
        let readme = try String(contentsOfFile: repo + "/README.md", encoding: .utf8)
        let section = try XCTUnwrap(readme.components(separatedBy: "## Writing a handler in Swift").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let blocks = section.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        XCTAssertEqual(blocks.count, 2, "the README shows the example's two files")
        for block in blocks {
            let firstLine = block.prefix { $0 != "\n" }
            XCTAssertTrue(firstLine.hasPrefix("// Sources/"), "each block starts with its file's path: \(firstLine)")
            let path = repo + "/Examples/CustomHandler/" + firstLine.dropFirst(3)
            let file = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertEqual(String(block.dropFirst(firstLine.count + 1)), file, "README and \(path) differ")
        }
        let scratch = NSTemporaryDirectory() + "quantum-example-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let build = runProcess("/usr/bin/env", ["swift", "build", "--package-path", repo + "/Examples/CustomHandler",
                                                "--scratch-path", scratch], timeout: 900)
        XCTAssertEqual(build.status, 0, build.output)
    }
}
