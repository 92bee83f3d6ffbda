import Foundation

/// Caddy 2.6's `{$NAME}` and `{$NAME:default}` expansion, done on the raw text before lexing, so
/// a variable may hold several tokens. One level deep: a value is not expanded again.
enum EnvironmentVariables {
    static func expand(_ text: String, lookup: (String) -> String? = { ProcessInfo.processInfo.environment[$0] }) -> String {
        guard text.contains("{$") else { return text }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{$") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            out += rest[..<open.lowerBound]
            let body = rest[open.upperBound..<close]
            if body.isEmpty {
                out += rest[open.lowerBound...close]
            } else {
                let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                out += lookup(String(parts[0])) ?? (parts.count == 2 ? String(parts[1]) : "")
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
