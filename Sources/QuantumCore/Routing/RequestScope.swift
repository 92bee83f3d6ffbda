/// State one request's handlers share however the context was copied — what Caddy keeps on its
/// `ResponseWriter` and request context: response headers written before `next` (non-deferred
/// `headers`), and the vars and placeholders in effect where the chain failed (for error routes).
/// `@unchecked Sendable`: only its request's chain uses it, and that runs one handler at a time.
final class RequestScope: @unchecked Sendable {
    var pendingHeaders = HTTPFields()
    var failedVars: [String: String]?
    var failedPlaceholders: [String: String]?
}

extension Context {
    /// Gives this request a scope if it has none; true when this call created it.
    @discardableResult
    mutating func installScope() -> Bool {
        if scope != nil { return false }
        scope = RequestScope()
        return true
    }

    /// Writes response headers now, before `next` runs — Caddy's non-deferred header writes.
    /// A later handler's own header of the same name replaces them, and they stay on error
    /// responses. Returns true when the caller created the request's scope: it must then
    /// call `applyPendingResponseHeaders(to:)` on the response `next` returns.
    public mutating func writeResponseHeadersEarly(_ edit: (inout HTTPFields) -> Void) -> Bool {
        let created = installScope()
        edit(&scope!.pendingHeaders)
        return created
    }

    /// The response with the early headers underneath its own: names the response sets win.
    public func applyPendingResponseHeaders(to response: Response) -> Response {
        guard let pending = scope?.pendingHeaders, !pending.isEmpty else { return response }
        var merged = pending
        for field in response.headers { merged.remove(field.name) }
        for field in response.headers { merged.add(field.name, field.value) }
        var result = response
        result.headers = merged
        return result
    }

    /// Remembers this context's vars and placeholders as where the chain failed (innermost wins).
    func recordFailure() {
        guard let scope, scope.failedVars == nil else { return }
        scope.failedVars = vars
        scope.failedPlaceholders = placeholders
    }

    /// This context with the vars and placeholders recorded where the chain failed.
    func restoringFailure() -> Context {
        guard let scope, let vars = scope.failedVars else { return self }
        var context = self
        context.vars = vars
        context.placeholders = scope.failedPlaceholders ?? [:]
        scope.failedVars = nil
        scope.failedPlaceholders = nil
        return context
    }
}
