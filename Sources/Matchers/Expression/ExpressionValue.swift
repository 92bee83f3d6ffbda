import QuantumCore

/// A value while an expression is evaluated. Placeholders are text, except the few Caddy keeps
/// as integers (`{http.request.port}`, `{http.error.status_code}`...); as in CEL, values of
/// different types are never equal (`{http.request.header.X} == 2` is false even for "2").
enum ExpressionValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([ExpressionValue])
    case map([(ExpressionValue, ExpressionValue)])

    static func == (a: ExpressionValue, b: ExpressionValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        // Bytes, as Go compares: no Unicode normalisation can make two paths equal.
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.int(let x), .int(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)):
            return x.count == y.count && x.allSatisfy { entry in y.contains { $0.0 == entry.0 && $0.1 == entry.1 } }
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// The value as a number, when it is one.
    var number: Double? {
        switch self {
        case .int(let n): Double(n)
        case .double(let d): d
        default: nil
        }
    }

    var text: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let n): String(n)
        case .double(let d): String(d)
        case .string(let s): s
        case .list(let l): "[" + l.map(\.text).joined(separator: ", ") + "]"
        case .map(let m): "{" + m.map { "\($0.0.text): \($0.1.text)" }.joined(separator: ", ") + "}"
        }
    }

    /// The literal as JSON (for the matcher functions' arguments); nil when it is not a literal.
    var json: JSONValue? {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let n): return .number(String(n))
        case .double(let d): return .number(String(d))
        case .string(let s): return .string(s)
        case .list(let l):
            let items = l.compactMap(\.json)
            return items.count == l.count ? .array(items) : nil
        case .map(let m):
            var members: [(String, JSONValue)] = []
            for (k, v) in m {
                guard case .string(let key) = k, let value = v.json else { return nil }
                members.append((key, value))
            }
            return .object(members)
        }
    }
}
