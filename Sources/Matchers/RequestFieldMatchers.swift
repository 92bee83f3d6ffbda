import QuantumCore

/// `method`: one of the listed methods.
public struct MethodMatcher: MatcherModule {
    public static let moduleID = "http.matchers.method"
    public var methods: [String]

    public init(from decoder: any Decoder) throws { methods = try decoder.singleValueContainer().decode([String].self).map { $0.uppercased() } }

    public func matches(_ request: Request, context: inout Context) -> Bool { methods.contains(request.method) }
}

/// `header`: per field, one of the values (`*` wildcards); `null` = absent, `[]` = present.
public struct HeaderMatcher: MatcherModule {
    public static let moduleID = "http.matchers.header"
    public var fields: [(String, [String]?)]

    public init(from decoder: any Decoder) throws {
        guard case .object(let members) = try decoder.jsonValue() else { throw decoder.error("expected an object of header fields") }
        fields = try members.map { name, value in
            switch value {
            case .null: return (name, nil)
            case .array(let items):
                return (name, try items.map { item -> String in
                    guard case .string(let s) = item else { throw decoder.error("header \(name): values must be strings") }
                    return s
                })
            default: throw decoder.error("header \(name): expected an array or null")
            }
        }
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        for (name, patterns) in fields {
            let values = name.equalsIgnoringASCIICase("host") ? [request.host] : request.headers.values(name)
            guard let patterns else { if !values.isEmpty { return false }; continue }
            if values.isEmpty { return false }
            if patterns.isEmpty { continue }
            let hit = values.contains { value in
                patterns.contains { Self.wildcard(Template($0).render(request, context), value) }
            }
            if !hit { return false }
        }
        return true
    }

    static func wildcard(_ pattern: String, _ value: String) -> Bool { Wildcard.match(pattern, value) }
}

/// `query`: every listed key present with one of its values (`*`: any value); `{}` matches
/// only a request without a query.
public struct QueryMatcher: MatcherModule {
    public static let moduleID = "http.matchers.query"
    public var params: [String: [String]]

    public init(from decoder: any Decoder) throws { params = try decoder.singleValueContainer().decode([String: [String]].self) }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        // Like Caddy, an empty matcher matches only a request without query parameters.
        if params.isEmpty { return QueryString.pairs(request.query).isEmpty }
        guard Self.isValidQuery(request.query) else { return false }
        let pairs = QueryString.pairs(request.query)
        for (key, values) in params {
            let k = Template(key).render(request, context)
            let actual = pairs.filter { $0.0 == k }.map(\.1)
            if actual.isEmpty { return false }
            let hit = values.contains { v in
                let want = Template(v).render(request, context)
                return want == "*" || actual.contains(want)
            }
            if !hit { return false }
        }
        return true
    }

    /// Like Go's `url.ParseQuery`: bad escapes make the whole query invalid.
    static func isValidQuery(_ q: String) -> Bool {
        for part in q.split(separator: "&") where PathCodec.unescape(String(part)) == nil { return false }
        return !q.contains(";")
    }
}

/// `protocol`: `http`, `https`, `grpc`, or an HTTP version (`http/1.1`) or minimum (`http/2+`).
public struct ProtocolMatcher: MatcherModule {
    public static let moduleID = "http.matchers.protocol"
    public var proto: String

    public init(from decoder: any Decoder) throws {
        proto = try decoder.singleValueContainer().decode(String.self).asciiLowercased()
        let known = ["http", "https", "grpc", "http/1.0", "http/1.0+", "http/1.1", "http/1.1+", "http/2", "http/2+", "http/3", "http/3+"]
        guard known.contains(proto) else { throw decoder.error("unknown protocol \"\(proto)\"; known: \(known.joined(separator: ", "))") }
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        switch proto {
        case "http": return !request.connection.isTLS
        case "https": return request.connection.isTLS
        case "grpc": return request.headers["content-type"]?.hasPrefix("application/grpc") ?? false
        case "http/1.0": return request.proto == "HTTP/1.0"
        case "http/1.1": return request.proto == "HTTP/1.1"
        case "http/2": return request.proto == "HTTP/2.0"
        case "http/1.0+": return request.proto.hasPrefix("HTTP/")
        case "http/1.1+": return request.proto != "HTTP/1.0" && request.proto.hasPrefix("HTTP/")
        case "http/2+": return request.proto == "HTTP/2.0" || request.proto == "HTTP/3.0"
        case "http/3", "http/3+": return request.proto == "HTTP/3.0"
        default: return false
        }
    }
}

/// `vars`: placeholders (`{...}` keys) or vars (plain keys) equal to one of the values. As in
/// Caddy, the keys are OR'ed too: any key with one of its values matches.
public struct VarsMatcher: MatcherModule {
    public static let moduleID = "http.matchers.vars"
    public var values: [String: [String]]

    public init(from decoder: any Decoder) throws { values = try decoder.singleValueContainer().decode([String: [String]].self) }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        if values.isEmpty { return true }
        for (key, wanted) in values {
            let actual = key.hasPrefix("{") && key.hasSuffix("}") ? Template(key).render(request, context) : (context.vars[key] ?? "")
            if wanted.contains(where: { Template($0).render(request, context) == actual }) { return true }
        }
        return false
    }
}
