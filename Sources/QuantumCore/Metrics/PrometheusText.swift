/// Prometheus's text exposition format, version 0.0.4, written as Prometheus's Go client writes
/// it (what Caddy serves): families sorted by name, samples by label values, histogram buckets
/// cumulative with `le` last, numbers in Go's shortest `%g` form (`1.048576e+06`).
package enum PrometheusText {
    /// The `Content-Type` of the answer.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    package static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for family in families.sorted(by: { $0.name < $1.name }) where !family.samples.isEmpty {
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            let samples = family.samples.sorted { lessByLabelValues($0.labels, $1.labels) }
            for sample in samples {
                guard let buckets = sample.buckets else {
                    out += family.name + labelText(sample.labels) + " " + goFloat(sample.value) + "\n"
                    continue
                }
                var cumulative: UInt64 = 0
                for (i, count) in buckets.enumerated() {
                    cumulative &+= count
                    let le = i < family.bounds.count ? goFloat(family.bounds[i]) : "+Inf"
                    out += family.name + "_bucket" + labelText(sample.labels + [("le", le)]) + " " + goFloat(Double(cumulative)) + "\n"
                }
                out += family.name + "_sum" + labelText(sample.labels) + " " + goFloat(sample.value) + "\n"
                out += family.name + "_count" + labelText(sample.labels) + " " + goFloat(Double(cumulative)) + "\n"
            }
        }
        return out
    }

    private static func lessByLabelValues(_ a: [(String, String)], _ b: [(String, String)]) -> Bool {
        for (x, y) in zip(a, b) where x.1 != y.1 { return x.1 < y.1 }
        return a.count < b.count
    }

    private static func labelText(_ labels: [(String, String)]) -> String {
        if labels.isEmpty { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    private static func escapeLabel(_ value: String) -> String { escape(value, quote: true) }

    private static func escapeHelp(_ text: String) -> String { escape(text, quote: false) }

    /// Backslash and line feed escaped (and the double quote in label values).
    private static func escape(_ text: String, quote: Bool) -> String {
        guard text.contains(where: { $0 == "\\" || $0 == "\n" || (quote && $0 == "\"") }) else { return text }
        var out = ""
        for c in text {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quote: out += "\\\""
            default: out.append(c)
            }
        }
        return out
    }

    /// `value` as Go's `strconv.FormatFloat(value, 'g', -1, 64)` writes it (with Prometheus's
    /// `+Inf`): the shortest digits that read back as `value`, in exponent form when the
    /// decimal exponent is below −4 or at least 6 (`%g`'s rule for the shortest precision).
    package static func goFloat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift's description gives the shortest round-tripping digits; only the layout differs.
        var text = Substring(String(describing: abs(value)))
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        var digits = Array(whole + fraction)
        var point = whole.count + exponent  // digits[0..<point] come before the decimal point
        while let first = digits.first, first == "0" { digits.removeFirst(); point -= 1 }
        while let last = digits.last, last == "0" { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        let exp = point - 1
        if exp < -4 || exp >= 6 {
            // d.ddde±XX
            var mantissa = String(digits[0])
            if digits.count > 1 { mantissa += "." + String(digits[1...]) }
            let magnitude = abs(exp)
            return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
        if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
        return sign + String(digits[..<point]) + "." + String(digits[point...])
    }
}
