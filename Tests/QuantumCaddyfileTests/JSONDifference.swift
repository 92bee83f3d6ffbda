import QuantumCore

/// Names where an adapted config and the expected one part ways, for test messages.
enum JSONDifference {
    /// Where two JSON values first differ, as a path with both sides.
    static func first(_ a: JSONValue, _ b: JSONValue, at path: String) -> String {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            let keys = Set(x.map(\.0)).union(y.map(\.0)).sorted()
            for k in keys {
                guard let l = a[k] else { return "\(path)/\(k): missing, expected \(b[k]!.serialized.prefix(200))" }
                guard let r = b[k] else { return "\(path)/\(k): unexpected \(l.serialized.prefix(200))" }
                if l != r { return first(l, r, at: path + "/" + k) }
            }
        case (.array(let x), .array(let y)) where x.count == y.count:
            for (i, (l, r)) in zip(x, y).enumerated() where l != r { return first(l, r, at: "\(path)[\(i)]") }
        default: break
        }
        return "\(path): got \(a.serialized.prefix(300)), expected \(b.serialized.prefix(300))"
    }
}
