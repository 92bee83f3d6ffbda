import Glibc
import QuantumCore

/// What a path under a root is, as far as serving goes. Found on the blocking pool.
public enum FileEntry: Sendable {
    case missing
    case forbidden
    case directory(mtimeNanos: Int)
    case file(FileInfo)

    /// Looks `path` (inside `root`) up through a `ConfinedRoot`: links are followed while they
    /// stay inside the root, regular files opened (and read, when small). Blocking: call it on
    /// `BlockingPool`.
    static func load(path: String, root: String, smallFileLimit: Int) -> FileEntry {
        guard let relative = SafePath.relative(path, to: root) else { return .missing }
        let fd: Int32
        do {
            // O_NONBLOCK: a FIFO must not hold the pool's thread (it is refused below).
            fd = try ConfinedRoot(root).open(relative, O_RDONLY | O_NONBLOCK | O_NOCTTY)
        } catch {
            return error.code == EACCES ? .forbidden : .missing
        }
        let file = OpenFile(fd: fd)
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .missing }
        let mtime = st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory(mtimeNanos: mtime)
        case S_IFREG: break
        default: return .missing  // pipes, devices are never served
        }
        let size = Int(st.st_size)
        let content = size <= smallFileLimit ? try? file.read(offset: 0, count: size) : nil
        if let content, content.count != size { return .missing }
        return .file(FileInfo(path: path, size: size, mtimeNanos: mtime, file: file, content: content))
    }
}

/// A regular file ready to serve: its validators and either its bytes (small) or an open fd.
public struct FileInfo: Sendable {
    public let path: String
    public let size: Int
    public let mtimeNanos: Int
    public let file: OpenFile
    /// The whole content, for files small enough to keep in memory.
    public let content: [UInt8]?

    /// Caddy's strong ETag: mtime (ns) and size in base 36; none for a zero/epoch mtime.
    public var etag: String? {
        let seconds = mtimeNanos / 1_000_000_000
        if seconds == 0 || seconds == 1 { return nil }
        return "\"" + String(mtimeNanos, radix: 36) + String(size, radix: 36) + "\""
    }

    public var mtimeSeconds: Int { mtimeNanos / 1_000_000_000 }

    /// The body for bytes `range` of the file.
    func body(_ range: Range<Int>) -> ResponseBody {
        if let content { return .bytes(range.count == content.count ? content : Array(content[range])) }
        return .file(FileRegion(file: file, offset: range.lowerBound, length: range.count))
    }
}

/// One entry of a directory listing.
public struct DirectoryItem: Sendable {
    public let name: String
    public let size: Int
    public let mtimeSeconds: Int
    public let isDirectory: Bool
    public let isSymlink: Bool
    public let mode: UInt32

    /// Lists `path` (inside `root`; blocking: call it on `BlockingPool`); nil when it cannot be
    /// read. A link is shown with its target's details only when the target is inside the root.
    static func list(_ path: String, root: String) -> [DirectoryItem]? {
        guard let relative = SafePath.relative(path, to: root), let confined = try? ConfinedRoot(root),
              let fd = try? confined.open(relative, O_RDONLY | O_DIRECTORY) else { return nil }
        defer { close(fd) }
        guard let names = ConfinedRoot.entries(ofDirectory: dup(fd)) else { return nil }
        var items: [DirectoryItem] = []
        for name in names {
            var lst = stat()
            guard fstatat(fd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            let isLink = lst.st_mode & S_IFMT == S_IFLNK
            let st = isLink ? (try? confined.status(relative.isEmpty ? name : relative + "/" + name, followLast: true)) ?? lst : lst
            items.append(DirectoryItem(
                name: name, size: Int(st.st_size), mtimeSeconds: st.st_mtim.tv_sec,
                isDirectory: st.st_mode & S_IFMT == S_IFDIR, isSymlink: isLink, mode: st.st_mode))
        }
        return items
    }
}
