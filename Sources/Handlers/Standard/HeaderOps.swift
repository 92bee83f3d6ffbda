import QuantumCore

/// Caddy's header operations: `add`, `set`, `delete` (with `*` wildcards), `replace`.
public struct HeaderOps: Decodable, Sendable {
    public struct Replacement: Decodable, Sendable {
        public var search: String?
        package var searchRegexp: Pattern?
        public var replace: String
        enum CodingKeys: String, CodingKey, CaseIterable { case search, searchRegexp = "search_regexp", replace }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            search = try c.decodeIfPresent(String.self, forKey: .search)
            searchRegexp = try c.decodeIfPresent(Pattern.self, forKey: .searchRegexp)
            replace = try c.decodeIfPresent(String.self, forKey: .replace) ?? ""
            if search == nil && searchRegexp == nil { throw decoder.error("a replacement needs \"search\" or \"search_regexp\"") }
        }
    }

    public var add: [String: [String]]?
    public var set: [String: [String]]?
    public var delete: [String]?
    public var replace: [String: [Replacement]]?

    enum CodingKeys: String, CodingKey, CaseIterable { case add, set, delete, replace }

    /// Applies the operations in Caddy's order: delete `*`, add, set, delete, replace.
    public func apply(to headers: inout HTTPFields, render: (String) -> String) {
        // Deleting every field comes first, so fields added or set by the same ops stay.
        let deletes = (delete ?? []).map(render)
        if deletes.contains("*") { headers.removeAll { _ in true } }
        for (name, values) in (add ?? [:]).sorted(by: { $0.key < $1.key }) {
            for v in values { headers.add(name, render(v)) }
        }
        for (name, values) in (set ?? [:]).sorted(by: { $0.key < $1.key }) {
            // Like Caddy (`Header.Set` of the values joined by ","): one field.
            headers.set(name, values.map(render).joined(separator: ","))
        }
        for p in deletes where p != "*" {
            headers.removeAll { Self.wildcardMatch(p, $0.name) }
        }
        for (name, replacements) in (replace ?? [:]).sorted(by: { $0.key < $1.key }) {
            headers.mapValues { field in
                guard name == "*" || field.name.equalsIgnoringASCIICase(name) else { return field.value }
                var value = field.value
                for r in replacements {
                    let with = render(r.replace)
                    if let search = r.search { value = value.replacing(render(search), with: with) }
                    else if let re = r.searchRegexp { value = re.replaceAll(in: value, with: with) }
                }
                return value
            }
        }
    }

    /// `Prefix-*`, `*-Suffix`, `*sub*` or an exact name, case-insensitively.
    static func wildcardMatch(_ pattern: String, _ name: String) -> Bool { Wildcard.match(pattern, name, ignoringCase: true) }
}

/// A response condition for `headers.response.require` (Caddy's ResponseMatcher).
public struct ResponseCondition: Decodable, Sendable {
    public var statusCode: [Int]?
    public var headers: [String: [String]?]?

    enum CodingKeys: String, CodingKey, CaseIterable { case statusCode = "status_code", headers }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        statusCode = try c.decodeIfPresent([Int].self, forKey: .statusCode)
        if c.contains(.headers) {
            let raw = try c.decode(JSONValue.self, forKey: .headers)
            guard case .object(let members) = raw else { throw decoder.error("headers must be an object") }
            var h: [String: [String]?] = [:]
            for (k, v) in members {
                switch v {
                case .null: h[k] = .some(nil)
                case .array(let items): h[k] = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default: throw decoder.error("headers.\(k) must be an array or null")
                }
            }
            headers = h
        }
    }

    /// True when the response matches: status in the list (a single digit is a class), and
    /// every header rule (null: absent; []: present; values: one matches, `*` wildcards).
    public func matches(_ r: Response) -> Bool {
        if let codes = statusCode, !codes.isEmpty {
            guard codes.contains(where: { $0 < 10 ? r.status / 100 == $0 : r.status == $0 }) else { return false }
        }
        for (name, expected) in headers ?? [:] {
            let actual = r.headers.values(name)
            guard let expected else { if !actual.isEmpty { return false }; continue }
            if expected.isEmpty { if actual.isEmpty { return false }; continue }
            guard actual.contains(where: { a in expected.contains { HeaderOps.wildcardMatch($0, a) || $0 == a } }) else { return false }
        }
        return true
    }
}

/// `headers`: edits request headers before `next` and response headers after it.
public struct Headers: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.headers"

    public struct ResponseOps: Decodable, Sendable {
        public var ops: HeaderOps
        public var require: ResponseCondition?
        public var deferred: Bool?
        enum CodingKeys: String, CodingKey, CaseIterable { case add, set, delete, replace, require, deferred }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            require = try c.decodeIfPresent(ResponseCondition.self, forKey: .require)
            deferred = try c.decodeIfPresent(Bool.self, forKey: .deferred)
            ops = try HeaderOps(from: decoder)
        }
    }

    public var request: HeaderOps?
    public var response: ResponseOps?

    enum CodingKeys: String, CodingKey, CaseIterable { case request, response }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let request = edited(request, context)
        var context = context
        let ownsScope = writeEarly(request, &context)
        let response = try await next(request, context)
        return finish(ownsScope ? context.applyPendingResponseHeaders(to: response) : response, request, context)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        let request = edited(request, context)
        var context = context
        let ownsScope = writeEarly(request, &context)
        let handlerContext = context
        return try next(request, context).map { response in
            self.finish(ownsScope ? handlerContext.applyPendingResponseHeaders(to: response) : response, request, handlerContext)
        }
    }

    /// Request ops only: the answer of `next` goes back untouched.
    public var passesResponsesThrough: Bool { response == nil }

    /// Response ops that are neither deferred nor conditional apply before `next`, as in Caddy:
    /// a later handler's header of the same name wins over them.
    private var writesEarly: Bool { response != nil && response?.deferred != true && response?.require == nil }

    private func writeEarly(_ request: Request, _ context: inout Context) -> Bool {
        guard writesEarly, let ops = response?.ops else { return false }
        let snapshot = context
        return context.writeResponseHeadersEarly { headers in
            ops.apply(to: &headers) { Template($0).render(request, snapshot, unknown: .keep) }
        }
    }

    private func edited(_ original: Request, _ context: Context) -> Request {
        guard let ops = self.request else { return original }
        var request = original
        ops.apply(to: &request.headers) { Template($0).render(original, context, unknown: .keep) }
        if let host = request.headers["host"], host != request.host { request.host = host }
        return request
    }

    /// Deferred or conditional response ops, applied to the response `next` produced.
    private func finish(_ response: Response, _ request: Request, _ context: Context) -> Response {
        guard !writesEarly, let r = self.response, r.require?.matches(response) ?? true else { return response }
        var edited = response
        r.ops.apply(to: &edited.headers) { Template($0).render(request, context, unknown: .keep, response: response) }
        return edited
    }
}
