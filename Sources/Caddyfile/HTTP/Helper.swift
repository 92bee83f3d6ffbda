import QuantumCore

/// What a directive's parser is given: its tokens, the matchers defined in scope, and the
/// adapter's shared state (Caddy's `httpcaddyfile.Helper`).
struct Helper {
    var d: Dispenser
    let state: AdapterState
    var matcherDefs: [String: JSONValue]
    let parentBlock: ServerBlock

    var options: GlobalOptions { state.options }

    func warn(_ message: String) {
        state.warnings.append(CaddyfileWarning(file: d.file, line: d.line, message: message))
    }

    /// Parses the next argument as a matcher token (`*`, `/path` or `@name`), if it is one.
    mutating func matcherToken() throws -> (set: JSONValue?, isMatcher: Bool) {
        guard d.nextArg() else { return (nil, false) }
        return try Self.matcherSet(from: d.token, defs: matcherDefs)
    }

    static func matcherSet(from token: Token, defs: [String: JSONValue]) throws -> (set: JSONValue?, isMatcher: Bool) {
        if token.text == "*" { return (nil, true) }
        if token.text.hasPrefix("/") { return (.object([("path", .strings([token.text]))]), true) }
        if token.text.hasPrefix("@") {
            guard let set = defs[token.text] else { throw CaddyfileError("unrecognized matcher name: \(token.text)") }
            return (set, true)
        }
        return (nil, false)
    }

    /// Reads and removes a leading matcher token, then rewinds so the directive reads from its name.
    mutating func extractMatcherSet() throws -> JSONValue? {
        let (set, isMatcher) = try matcherToken()
        if isMatcher { d.delete() }
        d.reset()
        return set
    }

    /// A route with the handler, under the matcher set if any.
    func newRoute(_ matcherSet: JSONValue?, _ handler: JSONValue) -> [ConfigValue] {
        [ConfigValue("route", .route(Route(match: matcherSet.map { [$0] } ?? [], handle: [handler])))]
    }

    /// Puts the routes among `values` in one group (when there are at least two), so only the first match runs.
    func groupRoutes(_ values: inout [ConfigValue]) {
        let count = values.filter { if case .route = $0.value { true } else { false } }.count
        guard count >= 2 else { return }
        let name = state.nextGroup()
        for i in values.indices {
            if case .route(var r) = values[i].value {
                r.group = name
                values[i].value = .route(r)
            }
        }
    }

    /// Parses the block of this directive as a list of directives, in scope of its own matchers.
    mutating func parseSegmentAsConfig() throws -> [ConfigValue] {
        var results: [ConfigValue] = []
        while d.next() {
            if d.nextArg() { throw d.argErr() }
            var segments: [[Token]] = []
            let level = d.nesting
            while d.nextBlock(level) { segments.append(d.nextSegment()) }
            var defs = matcherDefs
            var remaining: [[Token]] = []
            for segment in segments {
                if segment.first?.text.hasPrefix("@") == true {
                    try MatcherDefinitions.parse(Dispenser(segment), into: &defs, state: state)
                } else {
                    remaining.append(segment)
                }
            }
            for segment in remaining {
                let name = segment[0].text
                guard let parse = Directives.registry[name] else {
                    throw d.err("unrecognized directive: \(name) - are you sure your Caddyfile structure (nesting and braces) is correct?")
                }
                var sub = Helper(d: Dispenser(segment), state: state, matcherDefs: defs, parentBlock: parentBlock)
                let values: [ConfigValue]
                do {
                    values = try parse(&sub)
                } catch let error as CaddyfileError {
                    throw d.err("parsing caddyfile tokens for '\(name)': \(error.message)")
                }
                for var v in values {
                    v.directive = Directives.normalizedName(name)
                    results.append(v)
                }
            }
        }
        return results
    }

    /// The block as a `subroute`, its directives sorted by the directive order.
    mutating func parseSegmentAsSubroute() throws -> Subroute {
        let values = try parseSegmentAsConfig()
        return try RouteBuilder.buildSubroute(values, state: state, sort: true)
    }
}
