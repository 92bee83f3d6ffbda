import QuantumCore

/// Evaluates a compiled expression against one request. Errors are type errors and the like;
/// the matcher turns them into a 500 for the request, as Caddy 2.6.2 does.
struct ExpressionEvaluator {
    struct Failure: Error { let message: String }

    let request: Request
    var context: Context
    let matchers: [MatcherSet]
    let patterns: [String: Pattern]
    let templates: [String: Template]

    init(request: Request, context: Context, matchers: [MatcherSet], patterns: [String: Pattern], templates: [String: Template]) {
        self.request = request
        self.context = context
        self.matchers = matchers
        self.patterns = patterns
        self.templates = templates
    }

    mutating func evaluate(_ node: ExpressionNode) throws -> ExpressionValue {
        switch node {
        case .literal(let v): return v
        case .placeholder(let name):
            let text = (templates[name] ?? Template("{\(name)}")).render(request, context)
            if Self.integerPlaceholders.contains(name), let n = Int64(text) { return .int(n) }
            return .string(text)
        case .identifier(let name): throw Failure(message: "undeclared reference to '\(name)'")
        case .list(let items): return .list(try items.map { try evaluate($0) })
        case .map(let entries): return .map(try entries.map { (try evaluate($0.0), try evaluate($0.1)) })
        case .matcher(let i): return .bool(try matchers[i].matches(request, context: &context))
        case .unary(let op, let x):
            let v = try evaluate(x)
            switch (op, v) {
            case ("!", .bool(let b)): return .bool(!b)
            case ("-", .int(let n)): return .int(0 &- n)
            case ("-", .double(let d)): return .double(-d)
            default: throw Failure(message: "no such operator: \(op)\(v.text)")
            }
        case .conditional(let c, let yes, let no):
            guard case .bool(let b) = try evaluate(c) else { throw Failure(message: "a condition must be a bool") }
            return try evaluate(b ? yes : no)
        case .binary(let op, let x, let y) where op == "&&" || op == "||":
            // CEL's logic: the side that decides wins even when the other side is an error.
            let decisive = op == "||"
            var firstError: (any Error)?
            do {
                guard case .bool(let a) = try evaluate(x) else { throw Failure(message: "\(op) needs bools") }
                if a == decisive { return .bool(decisive) }
            } catch {
                firstError = error
            }
            guard case .bool(let b) = try evaluate(y) else { throw Failure(message: "\(op) needs bools") }
            if b == decisive { return .bool(decisive) }
            if let firstError { throw firstError }
            return .bool(!decisive)
        case .binary(let op, let x, let y):
            return try binary(op, try evaluate(x), try evaluate(y))
        case .index(let x, let k):
            let container = try evaluate(x), key = try evaluate(k)
            switch (container, key) {
            case (.list(let items), _):
                guard let n = key.number, let i = Int(exactly: n), items.indices.contains(i) else { throw Failure(message: "index out of range") }
                return items[i]
            case (.map(let entries), _):
                guard let hit = entries.first(where: { $0.0 == key }) else { throw Failure(message: "no such key: \(key.text)") }
                return hit.1
            default: throw Failure(message: "cannot index \(container.text)")
            }
        case .call(let name, let args):
            let values = try args.map { try evaluate($0) }
            return try function(name, values)
        case .method(let receiver, let name, let args):
            let target = try evaluate(receiver)
            let values = try args.map { try evaluate($0) }
            return try method(target, name, values)
        }
    }

    /// Placeholders whose values Caddy keeps as integers.
    static let integerPlaceholders: Set<String> = ["http.request.port", "http.error.status_code", "http.reverse_proxy.status_code",
                                                   "http.reverse_proxy.upstream.port", "http.reverse_proxy.upstream.requests",
                                                   "http.reverse_proxy.upstream.max_requests", "http.reverse_proxy.upstream.fails"]

    private func binary(_ op: String, _ a: ExpressionValue, _ b: ExpressionValue) throws -> ExpressionValue {
        switch op {
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "<", "<=", ">", ">=":
            let order: Int
            if case .string(let x) = a, case .string(let y) = b {
                order = x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : (x.utf8.elementsEqual(y.utf8) ? 0 : 1)
            } else if case .int(let x) = a, case .int(let y) = b {
                order = x < y ? -1 : (x == y ? 0 : 1)
            } else if let x = a.number, let y = b.number {
                order = x < y ? -1 : (x == y ? 0 : 1)
            } else {
                throw Failure(message: "cannot compare \(a.text) and \(b.text)")
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in":
            switch b {
            case .list(let items): return .bool(items.contains(a))
            case .map(let entries): return .bool(entries.contains { $0.0 == a })
            default: throw Failure(message: "'in' needs a list or a map")
            }
        case "+":
            switch (a, b) {
            case (.string(let x), .string(let y)): return .string(x + y)
            case (.list(let x), .list(let y)): return .list(x + y)
            case (.int(let x), .int(let y)):
                let (sum, overflow) = x.addingReportingOverflow(y)
                if overflow { throw Failure(message: "integer overflow") }
                return .int(sum)
            default:
                guard let x = a.number, let y = b.number else { throw Failure(message: "cannot add \(a.text) and \(b.text)") }
                return .double(x + y)
            }
        case "-", "*", "/", "%":
            if case .int(let x) = a, case .int(let y) = b {
                let result: (Int64, Bool)
                switch op {
                case "-": result = x.subtractingReportingOverflow(y)
                case "*": result = x.multipliedReportingOverflow(by: y)
                case "/": guard y != 0 else { throw Failure(message: "division by zero") }; result = x.dividedReportingOverflow(by: y)
                default: guard y != 0 else { throw Failure(message: "modulus by zero") }; result = x.remainderReportingOverflow(dividingBy: y)
                }
                if result.1 { throw Failure(message: "integer overflow") }
                return .int(result.0)
            }
            guard let x = a.number, let y = b.number, op != "%" else { throw Failure(message: "cannot apply \(op) to \(a.text) and \(b.text)") }
            switch op {
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            default: return .double(x / y)
            }
        default:
            throw Failure(message: "unknown operator \(op)")
        }
    }

    private func function(_ name: String, _ args: [ExpressionValue]) throws -> ExpressionValue {
        switch (name, args.count) {
        case ("size", 1): return try method(args[0], "size", [])
        case ("int", 1):
            if case .int = args[0] { return args[0] }
            if case .double(let d) = args[0], let n = Int64(exactly: d.rounded(.towardZero)) { return .int(n) }
            if case .string(let s) = args[0], let n = Int64(s) { return .int(n) }
            throw Failure(message: "cannot convert \(args[0].text) to int")
        case ("double", 1):
            guard let d = args[0].number else { throw Failure(message: "cannot convert \(args[0].text) to double") }
            return .double(d)
        case ("string", 1): return .string(args[0].text)
        default: throw Failure(message: "unknown function \(name)/\(args.count)")
        }
    }

    private func method(_ target: ExpressionValue, _ name: String, _ args: [ExpressionValue]) throws -> ExpressionValue {
        switch (target, name, args.count) {
        // Byte comparisons, as Go's strings package: "/admin/" + a combining mark still starts with "/admin/".
        case (.string(let s), "startsWith", 1): return .bool(s.utf8.starts(with: try string(args[0]).utf8))
        case (.string(let s), "endsWith", 1): return .bool(s.utf8.reversed().starts(with: try string(args[0]).utf8.reversed()))
        case (.string(let s), "contains", 1): return .bool(Self.bytes(Array(s.utf8), contain: Array(try string(args[0]).utf8)))
        case (.string(let s), "matches", 1):
            let source = try string(args[0])
            let pattern: Pattern
            if let compiled = patterns[source] { pattern = compiled } else {
                do { pattern = try Pattern(source) } catch { throw Failure(message: "bad regular expression \(source)") }
            }
            return .bool(pattern.matches(s))
        case (.string(let s), "size", 0): return .int(Int64(s.unicodeScalars.count))
        case (.list(let l), "size", 0): return .int(Int64(l.count))
        case (.map(let m), "size", 0): return .int(Int64(m.count))
        case (.string(let s), "lowerAscii", 0): return .string(s.asciiLowercased())
        case (.string(let s), "upperAscii", 0):
            return .string(String(decoding: s.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self))
        default: throw Failure(message: "no such function \(name) on \(target.text)")
        }
    }

    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    private func string(_ v: ExpressionValue) throws -> String {
        guard case .string(let s) = v else { throw Failure(message: "expected a string, got \(v.text)") }
        return s
    }
}
