import QuantumCore

/// `rewrite`: changes the request's method and URI internally (no redirect).
public struct Rewrite: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.rewrite"

    public struct SubstringReplace: Decodable, Sendable {
        public var find: String
        public var replace: String?
        public var limit: Int?
    }

    public struct RegexReplace: Decodable, Sendable {
        package var find: Pattern
        public var replace: String?
    }

    public struct QueryOps: Decodable, Sendable {
        public struct KeyValue: Decodable, Sendable { public var key: String; public var val: String? }
        public struct KeyRename: Decodable, Sendable { public var key: String; public var val: String }
        public struct KeyReplace: Decodable, Sendable {
            public var key: String?
            public var search: String?
            package var searchRegexp: Pattern?
            public var replace: String?
            enum CodingKeys: String, CodingKey, CaseIterable { case key, search, searchRegexp = "search_regexp", replace }
        }
        public var rename: [KeyRename]?
        public var set: [KeyValue]?
        public var add: [KeyValue]?
        public var replace: [KeyReplace]?
        public var delete: [String]?
    }

    public var method: Template?
    public var uri: Template?
    public var stripPathPrefix: String?
    public var stripPathSuffix: String?
    public var uriSubstring: [SubstringReplace]?
    public var pathRegexp: [RegexReplace]?
    public var query: QueryOps?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, uri, stripPathPrefix = "strip_path_prefix", stripPathSuffix = "strip_path_suffix"
        case uriSubstring = "uri_substring", pathRegexp = "path_regexp", query
    }

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        try await next(rewrite(request, context), context)
    }

    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        try next(rewrite(request, context), context)
    }

    public var passesResponsesThrough: Bool { true }

    /// The rewritten request (exposed for tests and for handlers that embed rewriting).
    public func rewrite(_ original: Request, _ context: Context) -> Request {
        var r = original
        if let method { r.method = method.render(original, context).uppercased() }
        if let uri {
            // Like Caddy: the template's own query part is built separately (placeholder values
            // query-escaped); a query that only appears once the path is rendered still applies.
            let (pathTemplate, queryTemplate, hasQueryTemplate) = Self.split(uri.source)
            let (path, renderedQuery, hasRenderedQuery) = Self.split(Template(pathTemplate).render(original, context))
            if !path.isEmpty {
                var p = path
                if !p.hasPrefix("/") { p = "/" + p }
                r.rawPath = Self.escapeIfNeeded(p)
            }
            if hasQueryTemplate { r.query = Self.buildQuery(queryTemplate, original, context) }
            else if hasRenderedQuery { r.query = renderedQuery }
        }
        if let prefix = stripPathPrefix, !prefix.isEmpty {
            let p = prefix.hasPrefix("/") ? prefix : "/" + prefix
            r.rawPath = Self.stripPrefix(p, from: r.rawPath)
        }
        if let suffix = stripPathSuffix, !suffix.isEmpty, r.rawPath.hasSuffix(suffix) || r.path.hasSuffix(suffix) {
            if r.rawPath.hasSuffix(suffix) { r.rawPath = String(r.rawPath.dropLast(suffix.count)) }
            else { r.rawPath = Self.escapeIfNeeded(String(r.path.dropLast(suffix.count))) }
        }
        for sub in uriSubstring ?? [] {
            var u = r.uri
            let find = Template(sub.find).render(original, context)
            let replacement = Template(sub.replace ?? "").render(original, context)
            var count = 0
            var out = ""
            var rest = u[...]
            while let range = rest.firstRange(of: find), sub.limit ?? 0 <= 0 || count < sub.limit! {
                out += rest[..<range.lowerBound] + replacement
                rest = rest[range.upperBound...]
                count += 1
                if find.isEmpty { break }
            }
            u = out + rest
            let (path, query, _) = Self.split(u)
            r.rawPath = path
            r.query = query
        }
        for re in pathRegexp ?? [] {
            let replaced = re.find.replaceAll(in: r.path, with: Template(re.replace ?? "").render(original, context))
            r.rawPath = Self.escapeIfNeeded(replaced)
        }
        if let query { r.query = Self.apply(query, to: r.query, original, context) }
        return r
    }

    /// Renders the query part of a `uri` template like Caddy: placeholder values are query-escaped
    /// (except `{http.request.uri.query}` where a key is expected, which is already escaped), and
    /// components that render empty leave no stray `&`.
    static func buildQuery(_ template: String, _ r: Request, _ c: Context) -> String {
        var out = ""
        var expectKey = true
        var rest = Substring(template)
        while !rest.isEmpty {
            let nextEq = rest.firstIndex(of: "="), nextAmp = rest.firstIndex(of: "&")
            let ampIsNext = nextAmp.map { amp in nextEq.map { amp < $0 } ?? true } ?? false
            let end = ampIsNext ? nextAmp! : (nextEq ?? rest.endIndex)
            let component = expandQueryComponent(rest[..<end], r, c, rawQueryAllowed: expectKey)
            rest = end < rest.endIndex ? rest[rest.index(after: end)...] : rest[rest.endIndex...]
            if expectKey {
                if !out.isEmpty && !component.isEmpty { out += "&" }
            } else {
                out += "="
            }
            out += component
            expectKey = ampIsNext
        }
        return out
    }

    private static func expandQueryComponent(_ text: Substring, _ r: Request, _ c: Context, rawQueryAllowed: Bool) -> String {
        var out = ""
        var rest = text
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex, rest[rest.index(before: open)] == "\\" {
                out += rest[..<rest.index(before: open)] + "{"
                rest = rest[rest.index(after: open)...]
                continue
            }
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            let value = Placeholders.resolve(name, request: r, context: c) ?? ""
            out += name == "http.request.uri.query" && rawQueryAllowed ? value : QueryString.encode(value)
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func split(_ uri: String) -> (String, String, Bool) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "", false) }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]), true)
    }

    /// Keeps already-escaped paths; escapes raw characters that cannot appear in a path.
    static func escapeIfNeeded(_ p: String) -> String {
        p.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }) ? p : PathCodec.escapePath(p)
    }

    /// Strips `prefix` (compared on the decoded path, case-insensitively) from an escaped path.
    static func stripPrefix(_ prefix: String, from rawPath: String) -> String {
        let decoded = PathCodec.unescape(rawPath) ?? rawPath
        guard decoded.asciiLowercased().hasPrefix(prefix.asciiLowercased()) else { return rawPath }
        var rest = String(decoded.dropFirst(prefix.count))
        if !rest.hasPrefix("/") { rest = "/" + rest }
        return escapeIfNeeded(rest)
    }

    static func apply(_ ops: QueryOps, to query: String, _ r: Request, _ c: Context) -> String {
        var pairs = QueryString.pairs(query)
        let render = { (s: String) in Template(s).render(r, c) }
        for op in ops.rename ?? [] {
            for i in pairs.indices where pairs[i].0 == op.key { pairs[i].0 = render(op.val) }
        }
        for op in ops.set ?? [] {
            let key = render(op.key), val = render(op.val ?? "")
            if let first = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[first].1 = val
                pairs = pairs.enumerated().filter { $0.offset == first || $0.element.0 != key }.map(\.element)
            } else {
                pairs.append((key, val))
            }
        }
        for op in ops.add ?? [] { pairs.append((render(op.key), render(op.val ?? ""))) }
        for op in ops.replace ?? [] {
            for i in pairs.indices where op.key == nil || op.key == "*" || pairs[i].0 == op.key {
                let with = render(op.replace ?? "")
                if let s = op.search { pairs[i].1 = pairs[i].1.replacing(s, with: with) }
                else if let re = op.searchRegexp { pairs[i].1 = re.replaceAll(in: pairs[i].1, with: with) }
            }
        }
        for key in ops.delete ?? [] { pairs.removeAll { $0.0 == render(key) } }
        // Like Go's url.Values.Encode, which Caddy uses: keys sorted, each key's values in order.
        let sorted = pairs.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        return QueryString.build(sorted)
    }
}
