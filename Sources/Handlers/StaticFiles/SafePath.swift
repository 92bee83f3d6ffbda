import QuantumCore

/// Turning a request path into a file system path that cannot leave the root.
enum SafePath {
    /// The percent-decoded path, or nil when it is malformed: a bad escape, a NUL byte, or
    /// bytes that are not UTF-8 (overlong encodings included). `..` is resolved later by
    /// cleaning, which never climbs above `/`.
    static func decode(_ rawPath: String) -> String? {
        guard let decoded = PathCodec.unescapeUTF8(rawPath), !decoded.utf8.contains(0) else { return nil }
        return decoded
    }

    /// What `join` put after `root` (`a/b`, empty for the root itself); nil when `path` is not
    /// under `root`.
    static func relative(_ path: String, to root: String) -> String? {
        let base = join(root, "/")
        if path == base { return "" }
        let prefix = base == "/" ? "/" : base + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : nil
    }

    /// `root` + a cleaned absolute path (`/a/b/`), without a trailing slash.
    static func join(_ root: String, _ clean: String) -> String {
        var base = root
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var rest = Substring(clean)
        while rest.hasPrefix("/") { rest.removeFirst() }
        while rest.hasSuffix("/") { rest.removeLast() }
        if rest.isEmpty { return base }
        return base == "/" ? "/" + rest : base + "/" + rest
    }
}

/// `hide`: bare names (globs) hide any path component with that name; paths (globs) hide that
/// path and everything below it.
struct HidePatterns: Sendable {
    private let names: [String]
    private let paths: [String]

    init(_ patterns: [String], relativeTo directory: String = ".") {
        var names: [String] = [], paths: [String] = []
        for p in patterns where !p.isEmpty {
            if !p.contains("/") { names.append(p); continue }
            let absolute = p.hasPrefix("/") ? p : directory + "/" + (p.hasPrefix("./") ? String(p.dropFirst(2)) : p)
            paths.append(PathCodec.clean(absolute, keepTrailingSlash: false))
        }
        self.names = names
        self.paths = paths
    }

    func matches(_ path: String) -> Bool {
        if !names.isEmpty {
            for component in path.split(separator: "/") {
                let c = String(component)
                if names.contains(where: { $0 == c || Glob.match($0, c) }) { return true }
            }
        }
        for p in paths {
            if path == p || path.hasPrefix(p + "/") || Glob.match(p, path) { return true }
        }
        return false
    }
}

/// `Accept-Encoding` negotiation among the encodings a handler can produce.
public enum Encodings {
    /// The acceptable encodings from `supported`, best first: by q-value, ties in `supported` order.
    public static func preferred(_ headerValues: [String], among supported: [String]) -> [String] {
        guard !supported.isEmpty, !headerValues.isEmpty else { return [] }
        var q: [String: Double] = [:]
        var wildcard: Double?
        for value in headerValues {
            for part in value.split(separator: ",") {
                let pieces = part.split(separator: ";")
                guard let first = pieces.first else { continue }
                let name = first.trimmingOWS().asciiLowercased()
                var weight = 1.0
                for param in pieces.dropFirst() {
                    let kv = param.trimmingOWS()
                    if kv.hasPrefix("q=") || kv.hasPrefix("Q="), let w = Double(kv.dropFirst(2)) { weight = w }
                }
                if name == "*" { wildcard = weight } else { q[name] = weight }
            }
        }
        let scored = supported.enumerated().compactMap { i, enc -> (String, Double, Int)? in
            let weight = q[enc] ?? wildcard ?? 0
            return weight > 0 ? (enc, weight, i) : nil
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }.map(\.0)
    }
}
