import QuantumCore

/// `error`: fails the request with a status so the error routes run.
public struct StaticError: HandlerModule {
    public static let moduleID = "http.handlers.error"

    public var error: Template?
    package var statusCode: WeakString?

    enum CodingKeys: String, CodingKey, CaseIterable { case error, statusCode = "status_code" }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        var status = 500
        if let statusCode {
            let text = Template(statusCode.value).render(request, context)
            guard let code = Int(text), (400...599).contains(code) else { throw HTTPError(500, "invalid error status \"\(text)\"") }
            status = code
        }
        // Caddy renders the message with ReplaceKnown: unknown placeholders stay as written.
        throw HTTPError(status, error?.render(request, context, unknown: .keep) ?? "")
    }
}
