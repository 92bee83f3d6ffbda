import QuantumCore

/// `expression`: a CEL expression over the request (`{placeholders}`, `== != < <= > >= && || !
/// in + - * / %`, `?:`, lists and maps, `startsWith`/`endsWith`/`contains`/`matches`/`size`,
/// `int`/`string`/`double`/`size`, and Caddy's matcher functions `path()`, `host()`, `method()`,
/// `header()`, `header_regexp()`, `path_regexp()`, `query()`, `remote_ip()`, `client_ip()`,
/// `protocol()`, `file()`, `vars()`, `vars_regexp()`). Compiled once when the config loads; an
/// expression that does not parse, or uses a name outside the subset, is a config error. At a
/// request, an evaluation error (a type mismatch, such as `int()` of text that is not a number)
/// fails the request with a 500, as in Caddy 2.6.2.
public struct ExpressionMatcher: MatcherModule {
    public static let moduleID = "http.matchers.expression"
    /// The expression as written.
    public var expression: String
    private let root: ExpressionNode
    private let matchers: [MatcherSet]
    private let patterns: [String: Pattern]
    private let templates: [String: Template]

    enum CodingKeys: String, CodingKey, CaseIterable { case expr, name }

    public init(from decoder: any Decoder) throws {
        // Caddy's forms: the expression as a string, or {"expr": "...", "name": "..."}.
        if case .string(let text) = try decoder.jsonValue() {
            expression = text
        } else {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            expression = try c.decode(String.self, forKey: .expr)
            _ = try c.decodeIfPresent(String.self, forKey: .name)
        }
        let parsed: ExpressionNode
        do {
            parsed = try ExpressionParser.parse(expression)
        } catch let e as ExpressionParser.Failure {
            throw decoder.error("expression \"\(expression)\": \(e.message)")
        } catch let e as ExpressionLexer.Failure {
            throw decoder.error("expression \"\(expression)\": \(e.message)")
        }
        var compiler = ExpressionCompiler(decoder: decoder, expression: expression)
        root = try compiler.compile(parsed)
        matchers = compiler.matchers
        patterns = compiler.patterns
        templates = compiler.templates
    }

    public func matches(_ request: Request, context: inout Context) throws -> Bool {
        var evaluator = ExpressionEvaluator(request: request, context: context, matchers: matchers, patterns: patterns, templates: templates)
        let result: ExpressionValue
        do {
            result = try evaluator.evaluate(root)
        } catch let failure as ExpressionEvaluator.Failure {
            throw HTTPError(500, "evaluating expression \(expression): \(failure.message)")
        }
        context = evaluator.context
        guard case .bool(let matched) = result else {
            throw HTTPError(500, "expression \(expression) gave \(result.text), not a boolean")
        }
        return matched
    }
}

/// Turns Caddy's matcher functions into matcher sets (decoded through the registry, as the
/// matchers they name) and compiles literal regular expressions, once.
struct ExpressionCompiler {
    let decoder: any Decoder
    let expression: String
    var matchers: [MatcherSet] = []
    var patterns: [String: Pattern] = [:]
    var templates: [String: Template] = [:]

    static let matcherFunctions: Set<String> = ["path", "host", "method", "protocol", "remote_ip", "client_ip", "header", "query",
                                                "vars", "file", "path_regexp", "header_regexp", "vars_regexp"]

    /// Functions and member functions of the subset, with their argument counts.
    static let functions: [String: Int] = ["size": 1, "int": 1, "double": 1, "string": 1]
    static let memberFunctions: [String: Int] = ["startsWith": 1, "endsWith": 1, "contains": 1, "matches": 1, "size": 0,
                                                 "lowerAscii": 0, "upperAscii": 0]

    mutating func compile(_ node: ExpressionNode) throws -> ExpressionNode {
        switch node {
        case .identifier(let name):
            throw decoder.error("expression \"\(expression)\": undeclared reference to '\(name)'")
        case .placeholder(let name):
            if templates[name] == nil { templates[name] = Template("{\(name)}") }
            return node
        case .literal, .matcher: return node
        case .list(let items): return .list(try items.map { try compile($0) })
        case .map(let entries): return .map(try entries.map { (try compile($0.0), try compile($0.1)) })
        case .unary(let op, let x): return .unary(op, try compile(x))
        case .binary(let op, let x, let y): return .binary(op, try compile(x), try compile(y))
        case .conditional(let c, let y, let n): return .conditional(try compile(c), try compile(y), try compile(n))
        case .index(let x, let k): return .index(try compile(x), try compile(k))
        case .method(let receiver, let name, let args):
            guard Self.memberFunctions[name] == args.count else {
                throw decoder.error("expression \"\(expression)\": no function \(name) with \(args.count) argument(s) in the supported subset")
            }
            if name == "matches" {
                // A pattern from request data would be compiled per request and could be made to
                // backtrack for long: only literal patterns, compiled now.
                guard case .literal(.string(let source)) = args[0] else {
                    throw decoder.error("expression \"\(expression)\": matches() takes a literal pattern")
                }
                if patterns[source] == nil {
                    do { patterns[source] = try Pattern(source) } catch {
                        throw decoder.error("expression \"\(expression)\": bad regular expression \(source): \(error)")
                    }
                }
            }
            return .method(try compile(receiver), name, try args.map { try compile($0) })
        case .call(let name, let args):
            guard Self.matcherFunctions.contains(name) else {
                guard Self.functions[name] == args.count else {
                    throw decoder.error("expression \"\(expression)\": no function \(name) with \(args.count) argument(s) in the supported subset")
                }
                return .call(name, try args.map { try compile($0) })
            }
            let config = try matcherConfig(name, args)
            let set = try decoder.decode(MatcherSet.self, from: .object([(name, config)]))
            matchers.append(set)
            return .matcher(matchers.count - 1)
        }
    }

    /// The JSON a matcher function's literal arguments stand for.
    private func matcherConfig(_ name: String, _ args: [ExpressionNode]) throws -> JSONValue {
        var values: [JSONValue] = []
        for arg in args {
            guard let v = Self.literal(arg)?.json else {
                throw decoder.error("expression \"\(expression)\": \(name)() takes literal arguments")
            }
            values.append(v)
        }
        func strings() throws -> [JSONValue] {
            for v in values where v.stringValue == nil { throw decoder.error("expression \"\(expression)\": \(name)() takes strings") }
            return values
        }
        func mapOfLists() throws -> JSONValue {
            guard values.count == 1, case .object(let members) = values[0] else {
                throw decoder.error("expression \"\(expression)\": \(name)() takes one map")
            }
            return .object(members.map { key, value in
                if case .array = value { return (key, value) }
                if case .null = value { return (key, .null) }
                return (key, .array([value]))
            })
        }
        func regexp(fieldFirst: Bool) throws -> JSONValue {
            let s = try strings().compactMap(\.stringValue)
            switch (fieldFirst, s.count) {
            case (false, 1): return .object([("pattern", .string(s[0]))])
            case (false, 2): return .object([("name", .string(s[0])), ("pattern", .string(s[1]))])
            case (true, 2): return .object([(s[0], .object([("pattern", .string(s[1]))]))])
            case (true, 3): return .object([(s[1], .object([("name", .string(s[0])), ("pattern", .string(s[2]))]))])
            default: throw decoder.error("expression \"\(expression)\": wrong number of arguments to \(name)()")
            }
        }
        switch name {
        case "path", "host", "method": return .array(try strings())
        case "protocol":
            let s = try strings()
            guard s.count == 1 else { throw decoder.error("expression \"\(expression)\": protocol() takes one protocol") }
            return s[0]
        case "remote_ip", "client_ip":
            return .object([("ranges", .array(try strings()))])  // the matchers expand `private_ranges`
        case "header", "query", "vars": return try mapOfLists()
        case "file":
            if values.isEmpty { return .object([]) }
            guard values.count == 1, case .object = values[0] else { throw decoder.error("expression \"\(expression)\": file() takes one map") }
            return values[0]
        case "path_regexp": return try regexp(fieldFirst: false)
        default: return try regexp(fieldFirst: true)  // header_regexp, vars_regexp
        }
    }


    /// A literal value (nested lists and maps of literals), or nil.
    static func literal(_ node: ExpressionNode) -> ExpressionValue? {
        switch node {
        case .literal(let v): return v
        case .list(let items):
            let values = items.compactMap(literal)
            return values.count == items.count ? .list(values) : nil
        case .map(let entries):
            var out: [(ExpressionValue, ExpressionValue)] = []
            for (k, v) in entries {
                guard let key = literal(k), let value = literal(v) else { return nil }
                out.append((key, value))
            }
            return .map(out)
        case .unary("-", .literal(.int(let n))): return .int(-n)
        default: return nil
        }
    }
}
