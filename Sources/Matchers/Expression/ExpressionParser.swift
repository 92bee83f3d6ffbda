/// A parsed expression.
indirect enum ExpressionNode: Sendable {
    case literal(ExpressionValue)
    case placeholder(String)
    case identifier(String)
    case list([ExpressionNode])
    case map([(ExpressionNode, ExpressionNode)])
    case unary(String, ExpressionNode)
    case binary(String, ExpressionNode, ExpressionNode)
    case conditional(ExpressionNode, ExpressionNode, ExpressionNode)
    /// A global function, `size(x)`, `int(x)`, or one of Caddy's matcher functions (`path('/a*')`).
    case call(String, [ExpressionNode])
    /// A member function, `x.startsWith('a')`.
    case method(ExpressionNode, String, [ExpressionNode])
    case index(ExpressionNode, ExpressionNode)
    /// A matcher function compiled to matcher set number N.
    case matcher(Int)
}

/// Precedence climbing over CEL's operators: `?:`, `||`, `&&`, relations and `in`, `+ -`,
/// `* / %`, unary `! -`, then member access, calls and indexing.
struct ExpressionParser {
    struct Failure: Error { let message: String }

    private let tokens: [ExpressionToken]
    private var i = 0
    private var depth = 0

    /// An expression longer than this is refused: operator chains make trees as deep as they
    /// are long, and Caddy's configs write a few dozen tokens at most.
    static let maxTokens = 1000

    static func parse(_ text: String) throws -> ExpressionNode {
        let tokens = try ExpressionLexer.tokenize(text)
        if tokens.count > maxTokens { throw Failure(message: "expression too long (more than \(maxTokens) tokens)") }
        var p = ExpressionParser(tokens: tokens)
        let node = try p.conditional()
        guard p.i == p.tokens.count else { throw Failure(message: "unexpected \(p.describe(p.tokens[p.i])) after the expression") }
        return node
    }

    private init(tokens: [ExpressionToken]) { self.tokens = tokens }

    private func describe(_ t: ExpressionToken) -> String {
        switch t {
        case .identifier(let s), .symbol(let s): "'\(s)'"
        case .string(let s): "\"\(s)\""
        case .int(let n): "\(n)"
        case .double(let d): "\(d)"
        case .placeholder(let p): "{\(p)}"
        }
    }

    private func peek(_ symbol: String) -> Bool {
        if i < tokens.count, case .symbol(let s) = tokens[i], s == symbol { return true }
        return false
    }

    private mutating func take(_ symbol: String) -> Bool {
        if peek(symbol) { i += 1; return true }
        return false
    }

    private mutating func expect(_ symbol: String) throws {
        guard take(symbol) else {
            throw Failure(message: i < tokens.count ? "expected '\(symbol)', found \(describe(tokens[i]))" : "expected '\(symbol)' at the end")
        }
    }

    private mutating func nested<T>(_ body: (inout ExpressionParser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        if depth > 64 { throw Failure(message: "expression nested too deeply") }
        return try body(&self)
    }

    private mutating func conditional() throws -> ExpressionNode {
        try nested { p in
            let condition = try p.or()
            guard p.take("?") else { return condition }
            let yes = try p.conditional()
            try p.expect(":")
            return .conditional(condition, yes, try p.conditional())
        }
    }

    private mutating func or() throws -> ExpressionNode {
        var left = try and()
        while take("||") { left = .binary("||", left, try and()) }
        return left
    }

    private mutating func and() throws -> ExpressionNode {
        var left = try relation()
        while take("&&") { left = .binary("&&", left, try relation()) }
        return left
    }

    private mutating func relation() throws -> ExpressionNode {
        var left = try additive()
        while true {
            if let op = ["==", "!=", "<=", ">=", "<", ">"].first(where: { peek($0) }) {
                i += 1
                left = .binary(op, left, try additive())
            } else if i < tokens.count, tokens[i] == .identifier("in") {
                i += 1
                left = .binary("in", left, try additive())
            } else {
                return left
            }
        }
    }

    private mutating func additive() throws -> ExpressionNode {
        var left = try multiplicative()
        while let op = ["+", "-"].first(where: { peek($0) }) {
            i += 1
            left = .binary(op, left, try multiplicative())
        }
        return left
    }

    private mutating func multiplicative() throws -> ExpressionNode {
        var left = try unary()
        while let op = ["*", "/", "%"].first(where: { peek($0) }) {
            i += 1
            left = .binary(op, left, try unary())
        }
        return left
    }

    private mutating func unary() throws -> ExpressionNode {
        try nested { p in
            if p.take("!") { return .unary("!", try p.unary()) }
            if p.take("-") { return .unary("-", try p.unary()) }
            return try p.member()
        }
    }

    private mutating func member() throws -> ExpressionNode {
        var node = try primary()
        while true {
            if take(".") {
                guard i < tokens.count, case .identifier(let name) = tokens[i] else { throw Failure(message: "expected a name after '.'") }
                i += 1
                if take("(") {
                    node = .method(node, name, try arguments(closing: ")"))
                } else {
                    node = .index(node, .literal(.string(name)))
                }
            } else if take("[") {
                let key = try conditional()
                try expect("]")
                node = .index(node, key)
            } else {
                return node
            }
        }
    }

    private mutating func arguments(closing: String) throws -> [ExpressionNode] {
        var args: [ExpressionNode] = []
        if take(closing) { return args }
        repeat {
            if peek(closing) { break }  // a trailing comma, as CEL allows
            args.append(try conditional())
        } while take(",")
        try expect(closing)
        return args
    }

    private mutating func primary() throws -> ExpressionNode {
        guard i < tokens.count else { throw Failure(message: "the expression ends too early") }
        let t = tokens[i]
        i += 1
        switch t {
        case .int(let n): return .literal(.int(n))
        case .double(let d): return .literal(.double(d))
        case .string(let s): return .literal(.string(s))
        case .placeholder(let p): return .placeholder(p)
        case .identifier(let name):
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default:
                if take("(") { return .call(name, try arguments(closing: ")")) }
                return .identifier(name)
            }
        case .symbol("("):
            let inner = try conditional()
            try expect(")")
            return inner
        case .symbol("["):
            return .list(try arguments(closing: "]"))
        case .symbol("{"):
            var entries: [(ExpressionNode, ExpressionNode)] = []
            if take("}") { return .map(entries) }
            repeat {
                if peek("}") { break }
                let key = try conditional()
                try expect(":")
                entries.append((key, try conditional()))
            } while take(",")
            try expect("}")
            return .map(entries)
        default:
            throw Failure(message: "unexpected \(describe(t))")
        }
    }
}
