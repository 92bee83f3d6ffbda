import QuantumCore
import QuantumHandlers

/// `handle_response`: what to do with an upstream's answer that matches (`match`: status codes
/// and headers of the answer): replace its status (`status_code`, what `replace_status` writes),
/// or run `routes` instead of sending it — with `{http.reverse_proxy.status_code}` and
/// `{http.reverse_proxy.header.*}` set, `copy_response`/`copy_response_headers` to use it, and
/// the handlers after `reverse_proxy` to go on to when the routes answer nothing (how
/// `forward_auth` lets an authorised request through).
public struct ResponseHandler: Decodable, Sendable {
    public var match: ResponseCondition?
    /// The status to give the answer instead (a number or a placeholder).
    public var statusCode: Template?
    public var routes: RouteList?
    let embedded: EmbeddedRoutes?

    enum CodingKeys: String, CodingKey, CaseIterable { case match, statusCode = "status_code", routes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        match = try c.decodeIfPresent(ResponseCondition.self, forKey: .match)
        statusCode = try c.decodeIfPresent(WeakString.self, forKey: .statusCode).map { Template($0.value) }
        routes = try c.decodeIfPresent(RouteList.self, forKey: .routes)
        if statusCode != nil && routes != nil {
            throw decoder.error("a response handler either replaces the status (status_code) or runs routes, not both")
        }
        embedded = statusCode == nil ? EmbeddedRoutes(routes: routes ?? RouteList([])) : nil
    }
}

/// The upstream's answer while `handle_response` routes run.
package enum UpstreamAnswer: ContextKey { public typealias Value = Response }

extension ProxyEngine {
    /// The first matching response handler's answer when it runs routes; nil when the upstream's
    /// answer goes on (none matched, or its status was replaced in `result`).
    nonisolated(nonsending) func applyResponseHandlers(_ result: inout Response, _ request: Request, _ context: Context,
                                                       next: Next) async throws -> Response? {
        for handler in handleResponse where handler.match?.matches(result) ?? true {
            if let status = handler.statusCode {
                let text = status.render(request, context)
                guard let code = Int(text), (100...999).contains(code) else { throw HTTPError(500, "replace_status: bad status code \(text)") }
                result.status = code
                return nil
            }
            // No routes: Caddy runs the empty list, which goes straight on down the chain.
            guard let routes = handler.embedded else { return nil }
            var inner = context
            inner[UpstreamAnswer.self] = result
            return try await routes.run(request, context: inner, next: next)
        }
        return nil
    }
}

/// `copy_response`: in `handle_response` routes, answers with the upstream's response (its
/// status replaced by `status_code` if given).
public struct CopyResponse: HandlerModule {
    public static let moduleID = "http.handlers.copy_response"
    public var statusCode: Template?

    enum CodingKeys: String, CodingKey, CaseIterable { case statusCode = "status_code" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = try c.decodeIfPresent(WeakString.self, forKey: .statusCode).map { Template($0.value) }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard var response = context[UpstreamAnswer.self] else {
            throw HTTPError(500, "copy_response is only usable inside reverse_proxy's handle_response")
        }
        if let statusCode {
            let text = statusCode.render(request, context)
            guard let code = Int(text), (100...999).contains(code) else { throw HTTPError(500, "copy_response: bad status code \(text)") }
            response.status = code
        }
        return response
    }
}

/// `copy_response_headers`: in `handle_response` routes, gives the response the handlers after
/// it make the upstream's header fields (`include` only these, or all but `exclude`); fields
/// those handlers set themselves win.
public struct CopyResponseHeaders: HandlerModule {
    public static let moduleID = "http.handlers.copy_response_headers"
    public var include: [String]?
    public var exclude: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case include, exclude }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        include = try c.decodeIfPresent([String].self, forKey: .include)
        exclude = try c.decodeIfPresent([String].self, forKey: .exclude)
        if include != nil && exclude != nil { throw decoder.error("cannot define both 'exclude' and 'include' lists at the same time") }
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        guard let upstream = context[UpstreamAnswer.self] else {
            throw HTTPError(500, "copy_response_headers is only usable inside reverse_proxy's handle_response")
        }
        var response = try await next(request, context)
        let own = Set(response.headers.map { $0.name.lowercased() })
        for field in upstream.headers where !own.contains(field.name.lowercased()) {
            if let include, !include.contains(where: { $0.equalsIgnoringASCIICase(field.name) }) { continue }
            if let exclude, exclude.contains(where: { $0.equalsIgnoringASCIICase(field.name) }) { continue }
            response.headers.add(field.name, field.value)
        }
        return response
    }
}
