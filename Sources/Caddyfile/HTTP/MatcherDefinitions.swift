import QuantumCore

/// Named matchers (`@name matcher args...`, the `@name { ... }` block form, and the quoted
/// expression shorthand `@name "expr"`), each becoming a matcher set.
enum MatcherDefinitions {
    static func parse(_ dispenser: Dispenser, into defs: inout [String: JSONValue], state: AdapterState) throws {
        var d = dispenser
        while d.next() {
            let name = d.val
            if defs[name] != nil { throw CaddyfileError("matcher is defined more than once: \(name)") }
            var set: [(String, JSONValue)] = []
            if d.nextArg() {
                if d.token.wasQuoted {
                    set.append(("expression", try MatcherModules.parse("expression", Dispenser([d.token]))))
                    defs[name] = .object(set)
                    continue
                }
                d.prev()
            }
            let tokensByMatcher = try collectMatcherTokens(&d)
            for (matcher, tokens) in tokensByMatcher {
                set.append((matcher, try MatcherModules.parse(matcher, Dispenser(tokens))))
            }
            defs[name] = JSONValue.object(set).canonical
        }
    }

    /// The tokens of each matcher in a set (several lines of one matcher are concatenated).
    static func collectMatcherTokens(_ d: inout Dispenser) throws -> [(String, [Token])] {
        var order: [String] = []
        var tokens: [String: [Token]] = [:]
        let level = d.nesting
        while d.nextArg() || d.nextBlock(level) {
            let matcher = d.val
            if tokens[matcher] == nil { order.append(matcher) }
            tokens[matcher, default: []] += d.nextSegment()
        }
        return order.map { ($0, tokens[$0]!) }
    }
}
