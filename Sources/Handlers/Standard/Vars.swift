import QuantumCore

/// `vars`: sets `{http.vars.NAME}` values for later handlers and matchers (e.g. `root`).
public struct Vars: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.vars"

    public var values: [String: Template]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: NameKey.self)
        var values: [String: Template] = [:]
        for key in c.allKeys where key.stringValue != "handler" {
            let raw = try c.decode(JSONValue.self, forKey: key)
            switch raw {
            case .string(let s): values[key.stringValue] = Template(s)
            case .number(let n): values[key.stringValue] = Template(n)
            case .bool(let b): values[key.stringValue] = Template(b ? "true" : "false")
            case .null: values[key.stringValue] = Template("")
            default: values[key.stringValue] = Template(raw.serialized)
            }
        }
        self.values = values
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        try await next(request, assigned(request, context))
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        try next(request, assigned(request, context))
    }

    public var passesResponsesThrough: Bool { true }

    private func assigned(_ request: Request, _ context: Context) -> Context {
        var context = context
        for (name, template) in values { context.vars[name] = template.render(request, context) }
        return context
    }
}

/// `request_body`: caps how much of the body later handlers may read. As in Caddy, only a read
/// past the cap fails (413); a body nobody reads is not rejected.
public struct RequestBodyLimit: HandlerModule {
    public static let moduleID = "http.handlers.request_body"

    public var maxSize: ByteSize?

    enum CodingKeys: String, CodingKey, CaseIterable { case maxSize = "max_size" }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        if let maxSize { request.body.limit(to: maxSize.bytes) }
        return try await next(request, context)
    }
}
