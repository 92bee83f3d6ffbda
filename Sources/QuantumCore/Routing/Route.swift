/// Matchers that must all match (Caddy's matcher set: a JSON object of matcher name → config).
public struct MatcherSet: Sendable, Decodable {
    /// Tried in order; the first that fails ends the test (an empty set matches everything).
    public var matchers: [any RequestMatcher]

    /// For building routes in code rather than decoding them.
    public init(_ matchers: [any RequestMatcher]) { self.matchers = matchers }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: NameKey.self)
        let registry = try decoder.provisionContext.registry
        if let legacy = try Self.legacyForm(container, registry: registry) {
            matchers = [legacy]
            return
        }
        var matchers: [any RequestMatcher] = []
        for key in container.allKeys {
            let sub = try container.superDecoder(forKey: key)
            let module = try registry.load(namespace: "http.matchers", name: key.stringValue, kind: "matcher", from: sub, keyPath: sub.codingPath)
            guard let matcher = module as? any RequestMatcher else { throw sub.error("\(key.stringValue) is not a matcher") }
            matchers.append(matcher)
        }
        self.matchers = matchers
    }

    /// The original Quantum's form, `{"matcher": "path", "paths": ["/api/*"]}`: one matcher
    /// named by `matcher`, configured by the one other field. Loaded as Caddy's
    /// `{"path": ["/api/*"]}`, with a warning that shows that form; nil for Caddy's own form.
    private static func legacyForm(_ container: KeyedDecodingContainer<NameKey>, registry: ModuleRegistry) throws -> (any RequestMatcher)? {
        guard let nameKey = container.allKeys.first(where: { $0.stringValue == "matcher" }),
              let name = try? container.decode(String.self, forKey: nameKey) else { return nil }
        let rest = container.allKeys.filter { $0.stringValue != "matcher" }
        guard rest.count == 1, let field = rest.first else {
            throw try container.superDecoder(forKey: nameKey).error(
                "the {\"matcher\": \"\(name)\", ...} form takes one field besides \"matcher\"; write Caddy's {\"\(name)\": ...} instead")
        }
        let sub = try container.superDecoder(forKey: field)
        let module = try registry.load(namespace: "http.matchers", name: name, kind: "matcher", from: sub, keyPath: sub.codingPath)
        guard let matcher = module as? any RequestMatcher else { throw sub.error("\(name) is not a matcher") }
        let at = ConfigPath.format(container.codingPath)
        ProcessLog.write(nil, .warn, logger: "config",
                         "\(at): {\"matcher\": \"\(name)\", \"\(field.stringValue)\": ...} is the original Quantum form; Caddy's is {\"\(name)\": ...}")
        return matcher
    }

    /// True when every matcher matches; matchers before a failing one may have written to `context`.
    public func matches(_ request: Request, context: inout Context) throws -> Bool {
        // Through the buffer: a loop over the array copies each matcher out (retains apiece).
        try matchers.withUnsafeBufferPointer { all in
            for i in all.indices where try !all[i].matches(request, context: &context) { return false }
            return true
        }
    }
}

/// Matcher sets of which at least one must match (an empty list always matches).
public struct MatcherSets: Sendable {
    /// Caddy's `match` array: tried in order until one matches.
    public var sets: [MatcherSet]
    /// For building routes in code; `Route.init` wraps its `match` array in one.
    public init(_ sets: [MatcherSet]) { self.sets = sets }

    /// True when there are no sets or any one of them matches.
    public func matches(_ request: Request, context: inout Context) throws -> Bool {
        if sets.isEmpty { return true }
        return try sets.withUnsafeBufferPointer { all in
            for i in all.indices where try all[i].matches(request, context: &context) { return true }
            return false
        }
    }
}

/// A handler decoded from `{"handler": "NAME", ...}`.
struct HandlerEntry: Decodable {
    let handler: any Handler
    init(from decoder: any Decoder) throws {
        let module = try decoder.decodeModule(namespace: "http.handlers", inlineKey: "handler", kind: "handler")
        guard let handler = module as? any Handler else { throw decoder.error("module is not a handler") }
        self.handler = handler
    }
}

/// One route: matcher sets, a handler chain, and Caddy's `group` and `terminal`.
public struct Route: Sendable, Decodable {
    /// Of the routes sharing a group, only the first that matches runs (Caddy's `group`); nil for none.
    public var group: String?
    /// Caddy's `match`: the route applies when any set matches, or always when there are none.
    public var match: MatcherSets
    /// The chain run when the route applies (Caddy's `handle`), in order.
    public var handlers: [any Handler]
    /// Caddy's `terminal`: when the route applies, no routes after it run.
    public var terminal: Bool

    /// For building routes in code; the defaults are Caddy's (no group, always matches, not terminal).
    public init(group: String? = nil, match: [MatcherSet] = [], handlers: [any Handler], terminal: Bool = false) {
        self.group = group
        self.match = MatcherSets(match)
        self.handlers = handlers
        self.terminal = terminal
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case group, match, handle, terminal }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        group = try c.decodeIfPresent(String.self, forKey: .group)
        match = MatcherSets(try c.decodeIfPresent([MatcherSet].self, forKey: .match) ?? [])
        handlers = (try c.decodeIfPresent([HandlerEntry].self, forKey: .handle) ?? []).map(\.handler)
        terminal = try c.decodeIfPresent(Bool.self, forKey: .terminal) ?? false
    }

    /// True when the route applies to every request (no matchers, no group).
    var alwaysApplies: Bool { match.sets.isEmpty && group == nil }

    /// The context to run this route's handlers with, or nil when the route does not apply:
    /// its group already ran, or its matchers reject the request.
    func enter(_ request: Request, _ context: Context) throws -> Context? {
        if let group, context.groups.contains(group) { return nil }
        var matched = context
        guard try match.matches(request, context: &matched) else { return nil }
        if let group { matched.groups.insert(group) }
        return matched
    }
}

/// An ordered list of routes (Caddy's `routes`).
public struct RouteList: Sendable, Decodable {
    /// In the order they are tried.
    public var routes: [Route]

    /// For building route lists in code rather than decoding them.
    public init(_ routes: [Route]) { self.routes = routes }

    public init(from decoder: any Decoder) throws {
        routes = try decoder.singleValueContainer().decode([Route].self)
    }

    /// The routes compiled into one program, entered at its first route; Caddy's empty 200
    /// follows the last.
    public func compile() -> Next { RouteProgram(self).entry }
}
