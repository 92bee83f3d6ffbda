import Glibc
import QuantumCore

/// `file`: matches when a file exists — Caddy's `try_files` building block for single-page
/// apps and PHP-style front controllers. Sets `{http.matchers.file.relative}`, `.absolute`,
/// `.type` and `.remainder`.
///
/// Matchers are synchronous, so this one calls `stat` on the loop (the one exception to
/// "blocking file work on the pool": a `stat` of a cached inode takes about a microsecond).
public struct FileMatcher: MatcherModule {
    public static let moduleID = "http.matchers.file"

    public var root: Template?
    public var tryFiles: [Template]?
    public var tryPolicy: String?
    public var splitPath: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case root, tryFiles = "try_files", tryPolicy = "try_policy", splitPath = "split_path" }

    static let policies = ["first_exist", "first_exist_fallback", "smallest_size", "largest_size", "most_recently_modified"]

    public func validate() throws {
        if let tryPolicy, !Self.policies.contains(tryPolicy) {
            throw ConfigError(path: "", "unknown try_policy \"\(tryPolicy)\"; known: \(Self.policies.joined(separator: ", "))")
        }
    }

    struct Candidate {
        let relative: String
        let absolute: String
        let remainder: String
        var isDirectory = false
        var size = 0
        var mtime = 0
    }

    public func matches(_ request: Request, context: inout Context) throws -> Bool {
        var rootPath = root?.render(request, context) ?? context.vars["root"] ?? ""
        if rootPath.isEmpty { rootPath = FileIO.currentDirectory() }
        let templates = tryFiles ?? [Template("{http.request.uri.path}")]
        var candidates: [Candidate] = []
        for template in templates {
            let rendered = template.render(request, context)
            if rendered.hasPrefix("="), let status = Int(rendered.dropFirst()) { throw HTTPError(status) }
            let (path, remainder) = split(rendered)
            let clean = PathCodec.clean(path.hasPrefix("/") ? path : "/" + path)
            candidates.append(Candidate(relative: clean, absolute: SafePath.join(rootPath, clean), remainder: remainder))
        }
        let policy = tryPolicy ?? "first_exist"
        var chosen: Candidate?
        switch policy {
        case "first_exist", "first_exist_fallback":
            for (i, c) in candidates.enumerated() {
                if policy == "first_exist_fallback" && i == candidates.count - 1 { chosen = c; break }
                if let found = Self.probe(c, root: rootPath) { chosen = found; break }
            }
        default:
            let existing = candidates.compactMap { Self.probe($0, root: rootPath) }.filter { !$0.isDirectory }
            switch policy {
            case "smallest_size": chosen = existing.min { $0.size < $1.size }
            case "largest_size": chosen = existing.max { $0.size < $1.size }
            default: chosen = existing.max { $0.mtime < $1.mtime }
            }
        }
        guard let chosen else { return false }
        context.placeholders["http.matchers.file.relative"] = chosen.relative
        context.placeholders["http.matchers.file.absolute"] = chosen.absolute
        context.placeholders["http.matchers.file.type"] = chosen.isDirectory ? "directory" : "file"
        context.placeholders["http.matchers.file.remainder"] = chosen.remainder
        return true
    }

    /// `split_path`: `/index.php/some/path` → (`/index.php`, `/some/path`), case-insensitively.
    func split(_ path: String) -> (String, String) {
        let lower = path.lowercased()
        for delimiter in splitPath ?? [] where !delimiter.isEmpty {
            if let r = lower.firstRange(of: delimiter.lowercased()) {
                let end = path.utf8.index(path.utf8.startIndex, offsetBy: lower.utf8.distance(from: lower.utf8.startIndex, to: r.upperBound))
                return (String(path[..<end]), String(path[end...]))
            }
        }
        return (path, "")
    }

    /// The candidate with its metadata when it exists as the kind it names (a trailing `/` asks for a directory).
    /// Looked up through a `ConfinedRoot`: a link leading out of the root is not a match.
    static func probe(_ c: Candidate, root: String) -> Candidate? {
        guard let relative = SafePath.relative(c.absolute, to: root),
              let st = try? ConfinedRoot(root).status(relative, followLast: true) else { return nil }
        let isDirectory = st.st_mode & S_IFMT == S_IFDIR
        if c.relative.hasSuffix("/") != isDirectory && c.relative != "/" { return nil }
        var found = c
        found.isDirectory = isDirectory
        found.size = Int(st.st_size)
        found.mtime = st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
        return found
    }
}
