import Glibc
import QuantumCore

/// What a path under a root is, as far as serving goes. Found on the blocking pool.
public enum FileEntry: Sendable {
    case missing
    case forbidden
    case directory(mtimeNanos: Int)
    case file(FileInfo)

    /// Looks `path` up: stat, symlinks resolved and kept inside `root`, regular files opened
    /// (and read, when small). Blocking: call it on `BlockingPool`.
    static func load(path: String, root: String, smallFileLimit: Int) -> FileEntry {
        var st = stat()
        guard stat(path, &st) == 0 else { return errno == EACCES ? .forbidden : .missing }
        // Symlinks may point anywhere: the resolved path must stay inside the resolved root.
        guard let real = realPath(path), let realRoot = realPath(root),
              real == realRoot || real.hasPrefix(realRoot == "/" ? "/" : realRoot + "/") else { return .missing }
        let mtime = st.st_mtim.tv_sec * 1_000_000_000 + st.st_mtim.tv_nsec
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory(mtimeNanos: mtime)
        case S_IFREG: break
        default: return .missing  // sockets, pipes, devices are never served
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return errno == EACCES ? .forbidden : .missing }
        let file = OpenFile(fd: fd)
        var fst = stat()
        guard fstat(fd, &fst) == 0, fst.st_mode & S_IFMT == S_IFREG else { return .missing }
        let size = Int(fst.st_size)
        let fmtime = fst.st_mtim.tv_sec * 1_000_000_000 + fst.st_mtim.tv_nsec
        let content = size <= smallFileLimit ? try? file.read(offset: 0, count: size) : nil
        if let content, content.count != size { return .missing }
        return .file(FileInfo(path: path, size: size, mtimeNanos: fmtime, file: file, content: content))
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
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

    /// Lists `path` (blocking: call it on `BlockingPool`); nil when it cannot be read.
    static func list(_ path: String) -> [DirectoryItem]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var items: [DirectoryItem] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let full = path.hasSuffix("/") ? path + name : path + "/" + name
            var lst = stat()
            guard lstat(full, &lst) == 0 else { continue }
            let isLink = lst.st_mode & S_IFMT == S_IFLNK
            var st = lst
            if isLink && stat(full, &st) != 0 { st = lst }
            items.append(DirectoryItem(
                name: name, size: Int(st.st_size), mtimeSeconds: st.st_mtim.tv_sec,
                isDirectory: st.st_mode & S_IFMT == S_IFDIR, isSymlink: isLink, mode: st.st_mode))
        }
        return items
    }
}
