import QuantumCore

/// `static_response`: a fixed (templated) response — Caddy's `respond`.
public struct StaticResponse: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.static_response"

    package var statusCode: WeakString?
    public var headers: [String: [String]]?
    public var body: Template?
    public var close: Bool?
    public var abort: Bool?

    /// Prepared at provision: the response when nothing depends on the request.
    private var constant: Response?
    private var statusTemplate: Template?
    private var headerTemplates: [(String, [Template])] = []

    enum CodingKeys: String, CodingKey, CaseIterable { case statusCode = "status_code", headers, body, close, abort }

    public init(statusCode: Int? = nil, headers: [String: [String]]? = nil, body: String? = nil) {
        self.statusCode = statusCode.map { WeakString(String($0)) }
        self.headers = headers
        self.body = body.map(Template.init)
        prepare()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = try c.decodeIfPresent(WeakString.self, forKey: .statusCode)
        headers = try c.decodeIfPresent([String: [String]].self, forKey: .headers)
        body = try c.decodeIfPresent(Template.self, forKey: .body)
        close = try c.decodeIfPresent(Bool.self, forKey: .close)
        abort = try c.decodeIfPresent(Bool.self, forKey: .abort)
        if let s = statusCode?.value, Template(s).isConstant {
            guard let code = Int(s), (100...999).contains(code) else {
                throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.statusCode], "invalid status code \"\(s)\"")
            }
        }
        prepare()
    }

    private mutating func prepare() {
        statusTemplate = statusCode.map { Template($0.value) }
        headerTemplates = (headers ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.map(Template.init)) }
        let allConstant = (statusTemplate?.isConstant ?? true) && (body?.isConstant ?? true)
            && headerTemplates.allSatisfy { $0.1.allSatisfy(\.isConstant) }
        // A static_response without status_code inherits the error's status in error routes, so
        // only an explicit status may be precomputed.
        if allConstant && statusCode != nil {
            // Constant templates still need rendering: `\{` escapes become plain braces.
            let blank = Request(method: "GET", rawPath: "/")
            constant = build(status: Int(statusCode!.value) ?? 200,
                             headers: headerTemplates.map { ($0.0, $0.1.map { $0.render(blank, Context()) }) },
                             body: body?.render(blank, Context()))
        }
    }

    private func build(status: Int, headers: [(String, [String])], body: String?) -> Response {
        var r = Response(status: status)
        for (name, values) in headers { for v in values { r.headers.add(name, v) } }
        if let body, !body.isEmpty {
            r.body = .bytes(Array(body.utf8))
            // Like Caddy: an empty body gets no Content-Type.
            if !r.headers.contains("content-type") {
                r.headers.add("Content-Type", Self.looksLikeJSON(body) ? "application/json" : "text/plain; charset=utf-8")
            }
        }
        r.closeConnection = close ?? false
        r.abort = abort ?? false
        return r
    }

    /// Caddy's test: the trimmed body is longer than 2 bytes, a `{...}` or `[...]`, and valid JSON.
    static func looksLikeJSON(_ body: String) -> Bool {
        let utf8 = Array(body.utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 || $0 == 11 || $0 == 12 }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }),
              last - first + 1 > 2 else { return false }
        let (open, close) = (utf8[first], utf8[last])
        guard (open == UInt8(ascii: "{") && close == UInt8(ascii: "}")) || (open == UInt8(ascii: "[") && close == UInt8(ascii: "]")) else { return false }
        return (try? JSONParser.parse(Array(utf8[first...last]))) != nil
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        try respond(request, context)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        .response(try respond(request, context))
    }

    private func respond(_ request: Request, _ context: Context) throws -> Response {
        if let constant { return constant }
        var status = 200
        if let statusTemplate {
            let text = statusTemplate.render(request, context)
            guard let code = Int(text), (100...999).contains(code) else { throw HTTPError(500, "invalid status code \"\(text)\"") }
            status = code
        } else if let errorStatus = context.placeholders["http.error.status_code"], let code = Int(errorStatus) {
            status = code
        }
        let headers = headerTemplates.map { ($0.0, $0.1.map { $0.render(request, context) }) }
        return build(status: status, headers: headers, body: body?.render(request, context, unknown: .keep))
    }
}
