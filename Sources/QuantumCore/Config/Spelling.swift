/// "Did you mean" for a misspelt field or module name: the known name closest to it, when it is
/// close enough to be a typo (an edit or two, a swapped pair counting as one).
package enum Spelling {
    /// `; did you mean "x"?` when one known name is that close, else `; known<label>: a, b, c`.
    public static func hint(for name: String, known: [String], label: String = "") -> String {
        if let near = closest(to: name, in: known) { return "; did you mean \"\(near)\"?" }
        return "; known\(label): " + Set(known).sorted().joined(separator: ", ")
    }

    /// The known name within `max(1, min(2, name.count / 3))` edits of `name`, nearest first
    /// (ties: the first in sorted order); nil when none is.
    public static func closest(to name: String, in known: [String]) -> String? {
        let limit = max(1, min(2, name.count / 3))
        var best: (distance: Int, name: String)?
        for candidate in Set(known).sorted() where candidate != name {
            let d = distance(Array(name.utf8), Array(candidate.utf8), limit: limit)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (d, candidate) }
        }
        return best?.name
    }

    /// Optimal string alignment distance (insert, delete, substitute, swap neighbours); stops
    /// counting past `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, previous2[j - 2] + 1) }
                current[j] = d
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
