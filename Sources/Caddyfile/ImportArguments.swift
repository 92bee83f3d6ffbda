/// Fills an import's arguments into the imported tokens: `{args.N}` (Caddy 2.6) and `{args[N]}`
/// (current Caddy), and ranges `{args[:]}`, `{args[N:]}`, `{args[:M]}`, `{args[N:M]}`: a token
/// that is only a range becomes one token per argument, a range inside text joins them with spaces.
enum ImportArguments {
    static func substitute(_ args: [String], into tokens: [Token]) -> [Token] {
        guard tokens.contains(where: { $0.text.contains("{args") }) else { return tokens }
        var out: [Token] = []
        for token in tokens {
            if let range = wholeRange(token.text, count: args.count) {
                for arg in args[range] {
                    var copy = token
                    copy.text = arg
                    out.append(copy)
                }
                continue
            }
            var copy = token
            copy.text = replaceInText(token.text, args)
            out.append(copy)
        }
        return out
    }

    /// The slice a token made only of `{args[A:B]}` names.
    private static func wholeRange(_ text: String, count: Int) -> Range<Int>? {
        guard text.hasPrefix("{args["), text.hasSuffix("]}"), text.contains(":") else { return nil }
        return slice(String(text.dropFirst(6).dropLast(2)), count: count)
    }

    private static func slice(_ spec: String, count: Int) -> Range<Int>? {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        guard let start = parts[0].isEmpty ? 0 : Int(parts[0]), let end = parts[1].isEmpty ? count : Int(parts[1]),
              start >= 0, start <= end, end <= count else { return nil }
        return start..<end
    }

    private static func replaceInText(_ text: String, _ args: [String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{args") {
            result += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstIndex(of: "}") else { result += rest[open.lowerBound...]; return result }
            let inner = String(after[..<close])
            var replacement: String?
            if inner.hasPrefix("."), let n = Int(inner.dropFirst()), n >= 0, n < args.count {
                replacement = args[n]
            } else if inner.hasPrefix("["), inner.hasSuffix("]") {
                let spec = String(inner.dropFirst().dropLast())
                if let n = Int(spec), n >= 0, n < args.count {
                    replacement = args[n]
                } else if let range = slice(spec, count: args.count) {
                    replacement = args[range].joined(separator: " ")
                }
            }
            result += replacement ?? String(rest[open.lowerBound...close])
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }
}
