import QuantumCore

/// `host`: the request's host (port ignored), case-insensitive; `*` stands for one label.
public struct HostMatcher: MatcherModule, HostNamesMatcher {
    public static let moduleID = "http.matchers.host"

    public var hosts: [String]
    private var exact: Set<String> = []
    private var wildcards: [[Substring]] = []
    private var templates: [Template] = []

    public init(_ hosts: [String]) throws {
        self.hosts = hosts
        try prepare()
    }

    public init(from decoder: any Decoder) throws {
        hosts = try decoder.singleValueContainer().decode([String].self)
        do { try prepare() } catch let e as ConfigError { throw decoder.error(e.message) }
    }

    private mutating func prepare() throws {
        var seen: Set<String> = []
        for h in hosts {
            let lower = h.asciiLowercased()
            if !seen.insert(lower).inserted { throw ConfigError(path: "", "duplicate host \"\(h)\"") }
            let t = Template(lower)
            if !t.isConstant { templates.append(t) }
            else if lower.contains("*") { wildcards.append(lower.split(separator: ".", omittingEmptySubsequences: false)) }
            else { exact.insert(lower) }
        }
    }

    public func matches(_ request: Request, context: inout Context) -> Bool {
        let host = request.hostname.asciiLowercased()
        if exact.contains(host) { return true }
        if !wildcards.isEmpty {
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            for pattern in wildcards where pattern.count == labels.count {
                if zip(pattern, labels).allSatisfy({ $0 == "*" || $0 == $1 }) { return true }
            }
        }
        for t in templates {
            // Like Caddy: the rendered host may itself hold wildcards; compared case-insensitively.
            let rendered = t.render(request, context).asciiLowercased()
            if rendered.contains("*") {
                let pattern = rendered.split(separator: ".", omittingEmptySubsequences: false)
                let labels = host.split(separator: ".", omittingEmptySubsequences: false)
                if pattern.count == labels.count && zip(pattern, labels).allSatisfy({ $0 == "*" || $0 == $1 }) { return true }
            } else if rendered == host {
                return true
            }
        }
        return false
    }
}
