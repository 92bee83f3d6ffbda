import QuantumCore

/// A path inside the sync root, checked: relative (`docs/a b.txt`), no `.`/`..` segments, no
/// NUL or control bytes, valid UTF-8, never the server's own state directory. Every API path
/// becomes one of these before it touches the disk, so nothing can reach outside the root.
public struct SyncPath: Sendable, Hashable, CustomStringConvertible {
    /// Relative to the root, `/`-separated, without leading or trailing slash; empty for the root.
    public let relative: String

    /// Where the server keeps its operation log and temporary uploads, inside the root.
    public static let stateDirectory = ".quantum-sync"

    public static let root = SyncPath(unchecked: "")

    private init(unchecked relative: String) { self.relative = relative }

    /// Checks a decoded path (`a/b`, `/a/b/`); nil when it is unsafe.
    public init?(_ path: String) {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." || part == ".." { return nil }
            if part.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return nil }
            if part.utf8.count > 255 { return nil }
            parts.append(part)
        }
        if parts.first.map({ $0 == Substring(Self.stateDirectory) }) == true { return nil }
        relative = parts.joined(separator: "/")
        if relative.utf8.count > 4096 { return nil }
    }

    /// Checks a percent-encoded URL path tail (`docs/a%20b.txt`).
    public init?(escaped: String) {
        guard let decoded = PathCodec.unescapeUTF8(escaped), !decoded.utf8.contains(0) else { return nil }
        self.init(decoded)
    }

    public var isRoot: Bool { relative.isEmpty }

    public var name: String { String(relative.split(separator: "/").last ?? "") }

    public var parent: SyncPath? {
        guard !isRoot else { return nil }
        guard let slash = relative.lastIndex(of: "/") else { return .root }
        return SyncPath(unchecked: String(relative[..<slash]))
    }

    /// One more component: nil when `name` is not a single safe name (the rules of `init`).
    public func appending(_ name: String) -> SyncPath? {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= 255, name != ".", name != "..",
              !bytes.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0x2f }),
              !(isRoot && name == Self.stateDirectory) else { return nil }
        let joined = isRoot ? name : relative + "/" + name
        return joined.utf8.count <= 4096 ? SyncPath(unchecked: joined) : nil
    }

    /// Whether this is `other` or inside it.
    public func isWithin(_ other: SyncPath) -> Bool {
        other.isRoot || relative == other.relative || relative.hasPrefix(other.relative + "/")
    }

    public var description: String { relative }
}

/// `ignore` globs: a pattern ending in `/` (`.git/`) names directories anywhere; other patterns
/// match any path component (`*.tmp`, `.DS_Store`) or, with a `/`, the whole relative path.
public struct IgnoreRules: Sendable {
    private let directories: [String]
    private let names: [String]
    private let paths: [String]

    public init(_ patterns: [String]) {
        var directories: [String] = [], names: [String] = [], paths: [String] = []
        for p in patterns where !p.isEmpty {
            if p.hasSuffix("/") { directories.append(String(p.dropLast())) }
            else if p.contains("/") { paths.append(p.hasPrefix("/") ? String(p.dropFirst()) : p) }
            else { names.append(p) }
        }
        self.directories = directories
        self.names = names
        self.paths = paths
    }

    public func ignores(_ path: SyncPath) -> Bool {
        let components = path.relative.split(separator: "/").map(String.init)
        for c in components {
            if names.contains(where: { Glob.match($0, c) }) || directories.contains(where: { Glob.match($0, c) }) { return true }
        }
        return paths.contains { Glob.match($0, path.relative) || path.relative.hasPrefix($0 + "/") }
    }
}
