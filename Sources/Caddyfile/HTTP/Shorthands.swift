/// The Caddyfile's placeholder shorthands (`{path}`, `{query.x}`, `{re.name.1}`, ...) expanded
/// to the placeholders they stand for, as Caddy 2.6.2 does for every token of a site block.
enum Shorthands {
    static let simple: [(String, String)] = [
        ("{dir}", "{http.request.uri.path.dir}"),
        ("{file}", "{http.request.uri.path.file}"),
        ("{host}", "{http.request.host}"),
        ("{hostport}", "{http.request.hostport}"),
        ("{port}", "{http.request.port}"),
        ("{method}", "{http.request.method}"),
        ("{path}", "{http.request.uri.path}"),
        ("{query}", "{http.request.uri.query}"),
        ("{remote}", "{http.request.remote}"),
        ("{remote_host}", "{http.request.remote.host}"),
        ("{remote_port}", "{http.request.remote.port}"),
        ("{scheme}", "{http.request.scheme}"),
        ("{uri}", "{http.request.uri}"),
        ("{tls_cipher}", "{http.request.tls.cipher_suite}"),
        ("{tls_version}", "{http.request.tls.version}"),
        ("{tls_client_fingerprint}", "{http.request.tls.client.fingerprint}"),
        ("{tls_client_issuer}", "{http.request.tls.client.issuer}"),
        ("{tls_client_serial}", "{http.request.tls.client.serial}"),
        ("{tls_client_subject}", "{http.request.tls.client.subject}"),
        ("{tls_client_certificate_pem}", "{http.request.tls.client.certificate_pem}"),
        ("{tls_client_certificate_der_base64}", "{http.request.tls.client.certificate_der_base64}"),
        ("{upstream_hostport}", "{http.reverse_proxy.upstream.hostport}"),
        ("{client_ip}", "{http.vars.client_ip}"),
    ]

    /// Prefix shorthands with a free final part: `{header.X}` → `{http.request.header.X}`.
    /// `dots` allows dots in the part (for `rp` and `err`); `two` takes `name.part` (`re`).
    static let parameterized: [(prefix: String, target: String, dots: Bool, two: Bool)] = [
        ("header", "http.request.header.", false, false),
        ("cookie", "http.request.cookie.", false, false),
        ("labels", "http.request.host.labels.", false, false),
        ("path", "http.request.uri.path.", false, false),
        ("file", "http.request.uri.path.file.", false, false),
        ("query", "http.request.uri.query.", false, false),
        ("re", "http.regexp.", false, true),
        ("vars", "http.vars.", false, false),
        ("rp", "http.reverse_proxy.", true, false),
        ("err", "http.error.", true, false),
        ("file_match", "http.matchers.file.", false, false),
    ]

    static func expand(_ text: String) -> String {
        guard text.contains("{") else { return text }
        var out = text
        // Go's strings.Replacer: one left-to-right pass, at each position the first listed match.
        out = replaceSimple(out)
        for p in parameterized { out = replaceParameterized(out, p) }
        return out
    }

    private static func replaceSimple(_ text: String) -> String {
        var result = ""
        var i = text.startIndex
        outer: while i < text.endIndex {
            if text[i] == "{" {
                for (from, to) in simple where text[i...].hasPrefix(from) {
                    result += to
                    i = text.index(i, offsetBy: from.count)
                    continue outer
                }
            }
            result.append(text[i])
            i = text.index(after: i)
        }
        return result
    }

    private static func isWordOrDash(_ c: Character, dots: Bool) -> Bool {
        (c.isASCII && (c.isLetter || c.isNumber)) || c == "_" || c == "-" || (dots && c == ".")
    }

    /// Regexp `{prefix\.([\w-]*)}` (or two such groups for `re`), replaced left to right.
    private static func replaceParameterized(_ text: String, _ p: (prefix: String, target: String, dots: Bool, two: Bool)) -> String {
        let open = "{" + p.prefix + "."
        guard text.contains(open) else { return text }
        var result = ""
        var i = text.startIndex
        while i < text.endIndex {
            if text[i...].hasPrefix(open) {
                var j = text.index(i, offsetBy: open.count)
                let firstStart = j
                while j < text.endIndex, isWordOrDash(text[j], dots: p.dots) { j = text.index(after: j) }
                var ok = j < text.endIndex
                var replacement = p.target + text[firstStart..<j]
                if ok && p.two {
                    ok = text[j] == "."
                    if ok {
                        j = text.index(after: j)
                        let secondStart = j
                        while j < text.endIndex, isWordOrDash(text[j], dots: false) { j = text.index(after: j) }
                        replacement += "." + text[secondStart..<j]
                        ok = j < text.endIndex
                    }
                }
                if ok && text[j] == "}" {
                    result += "{" + replacement + "}"
                    i = text.index(after: j)
                    continue
                }
            }
            result.append(text[i])
            i = text.index(after: i)
        }
        return result
    }
}
