import Quantum

/// `"handler": "greeting"`: answers with a greeting; `name` may use placeholders.
struct Greeting: HandlerModule {
    static let moduleID = "http.handlers.greeting"

    var name: Template
    var greeting: String?

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        .text("\(greeting ?? "Hello"), \(name.render(request, context))!\n")
    }
}
