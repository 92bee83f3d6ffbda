import QuantumCore

extension JSONValue {
    /// An object from key/value pairs, leaving out nil values (Go's `omitempty`).
    static func object(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        .object(pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    static func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }

    static func int(_ n: Int) -> JSONValue { .number(String(n)) }

    /// Sets (or with nil removes) an object member, keeping its place if it exists.
    mutating func set(_ key: String, _ value: JSONValue?) {
        guard case .object(var members) = self else { return }
        if let i = members.firstIndex(where: { $0.0 == key }) {
            if let value { members[i].1 = value } else { members.remove(at: i) }
        } else if let value {
            members.append((key, value))
        }
        self = .object(members)
    }

    var objectMembers: [(String, JSONValue)] {
        if case .object(let m) = self { return m }
        return []
    }

    var arrayValues: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }

    var isEmptyValue: Bool {
        switch self {
        case .null: true
        case .array(let a): a.isEmpty
        case .object(let o): o.isEmpty
        case .string(let s): s.isEmpty
        case .bool(let b): !b
        case .number(let n): n == "0"
        }
    }

    /// The same value with every object's keys sorted, as Go encodes maps; for comparing as data.
    package var canonical: JSONValue {
        switch self {
        case .array(let a): .array(a.map(\.canonical))
        case .object(let o): .object(o.map { ($0.0, $0.1.canonical) }.sorted { $0.0 < $1.0 })
        default: self
        }
    }

    /// Indented JSON text (tabs, as `caddy adapt --pretty` writes).
    package var pretty: String {
        var out = ""
        writePretty(into: &out, indent: "")
        return out
    }

    private func writePretty(into out: inout String, indent: String) {
        switch self {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (i, v) in a.enumerated() {
                out += indent + "\t"
                v.writePretty(into: &out, indent: indent + "\t")
                out += i < a.count - 1 ? ",\n" : "\n"
            }
            out += indent + "]"
        case .object(let o) where !o.isEmpty:
            out += "{\n"
            for (i, (k, v)) in o.enumerated() {
                out += indent + "\t" + JSONValue.quote(k) + ": "
                v.writePretty(into: &out, indent: indent + "\t")
                out += i < o.count - 1 ? ",\n" : "\n"
            }
            out += indent + "}"
        default:
            out += serialized
        }
    }
}
