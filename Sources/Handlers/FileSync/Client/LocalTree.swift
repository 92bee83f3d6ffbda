import Glibc
import QuantumCore

/// One file or directory in the client's folder as it is now: the same fields the state keeps
/// for what was last synced, so an entry is recorded as synced as it is.
public typealias LocalEntry = ClientState.Entry

/// The client's folder on disk. Paths are relative and `/`-separated like the server's; every
/// path (ours or one the server sent) must pass `SyncPath`, so nothing lands outside the folder.
///
/// Downloads are written to `.quantum-sync-client/tmp`, fsync'd and renamed into place: no
/// program ever sees half a file at its final path. Symlinks and special files are skipped.
/// All methods block; the client calls them from its own task, never on an event loop.
public struct LocalTree: Sendable {
    public let root: String
    public static let stateDirectoryName = ".quantum-sync-client"
    public var stateDirectory: String { root + "/" + Self.stateDirectoryName }
    var temporaryDirectory: String { stateDirectory + "/tmp" }

    public init(root: String) throws {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        try Self.makeDirectories(r + "/" + Self.stateDirectoryName + "/tmp")
        // Downloads a crash cut short left only temporary files.
        for name in Self.entries(of: temporaryDirectory) { unlink(temporaryDirectory + "/" + name) }
    }

    /// Whether `relative` is a path both sides may sync (valid, not a state directory).
    public func isSyncable(_ relative: String) -> Bool {
        guard let p = SyncPath(relative), !p.isRoot, p.relative == relative else { return false }
        return !(relative == Self.stateDirectoryName || relative.hasPrefix(Self.stateDirectoryName + "/"))
    }

    func absolute(_ relative: String) -> String { root + "/" + relative }

    // MARK: - Reading

    /// Every syncable entry under `under` (the whole folder by default), hashing only files whose
    /// size or mtime differ from `cache` (or that changed within the last two seconds, which an
    /// mtime of coarse granularity could hide).
    public func scan(under: String = "", cache: [String: ClientState.Entry] = [:]) -> [String: LocalEntry] {
        var out: [String: LocalEntry] = [:]
        func walk(_ directory: String) {
            for name in Self.entries(of: directory.isEmpty ? root : absolute(directory)) {
                let child = directory.isEmpty ? name : directory + "/" + name
                guard isSyncable(child), let e = entry(child, cache: cache[child]) else { continue }
                out[child] = e
                if e.isDirectory { walk(child) }
            }
        }
        walk(under)
        return out
    }

    /// One path as it is now; nil when it does not exist (or is not a regular file or directory).
    public func entry(_ relative: String, cache: ClientState.Entry? = nil) -> LocalEntry? {
        var st = stat()
        guard lstat(absolute(relative), &st) == 0 else { return nil }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            return LocalEntry(isDirectory: true, hash: "", size: 0, mtimeNanos: mtime)
        case S_IFREG:
            let size = Int(st.st_size)
            if let cache, !cache.isDirectory, !cache.hash.isEmpty, cache.size == size, cache.mtimeNanos == mtime,
               Int(st.st_mtim.tv_sec) < SystemClock.wallSeconds() - 2 {
                return LocalEntry(isDirectory: false, hash: cache.hash, size: size, mtimeNanos: mtime)
            }
            guard let digest = try? Digest.sha256(file: absolute(relative)) else { return nil }
            return LocalEntry(isDirectory: false, hash: Digest.hex(digest), size: size, mtimeNanos: mtime)
        default:
            return nil
        }
    }

    // MARK: - Downloads

    /// A download in progress: a temporary file in the state directory, hashed as it is written.
    public final class Download: @unchecked Sendable {
        let fd: Int32
        let path: String
        let hasher = SHA256Stream()
        private(set) var size = 0
        private var digest: String?

        init(fd: Int32, path: String) { self.fd = fd; self.path = path }

        /// The SHA-256 hex of everything written (call once writing is done).
        func finish() -> String {
            if let digest { return digest }
            let d = Digest.hex(hasher.finish())
            digest = d
            return d
        }

        func write(_ bytes: [UInt8]) throws {
            try LocalTree.writeAll(fd, bytes, what: path)
            hasher.update(bytes)
            size += bytes.count
        }

        func discard() { close(fd); unlink(path) }
    }

    func beginDownload() throws -> Download {
        let path = temporaryDirectory + "/download-\(UUIDv4.make())"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SyncClientError.local("cannot create \(path): \(String(cString: strerror(errno)))") }
        return Download(fd: fd, path: path)
    }

    /// Moves a finished download to `relative` (parents created) and returns its entry.
    func place(_ download: Download, at relative: String) throws -> LocalEntry {
        let hash = download.finish()
        fsync(download.fd)
        close(download.fd)
        if let slash = relative.lastIndex(of: "/") { try makeDirectory(String(relative[..<slash])) }
        if let existing = entry(relative), existing.isDirectory {
            unlink(download.path)
            throw SyncClientError.local("cannot place \(relative): a directory is in the way")
        }
        guard rename(download.path, absolute(relative)) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(download.path)
            throw SyncClientError.local("cannot place \(relative): \(why)")
        }
        Self.syncDirectory(parentAbsolute(relative))
        var st = stat()
        lstat(absolute(relative), &st)
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return LocalEntry(isDirectory: false, hash: hash, size: download.size, mtimeNanos: mtime)
    }

    // MARK: - Changes

    /// Creates a directory and its parents.
    public func makeDirectory(_ relative: String) throws {
        var current = ""
        for part in relative.split(separator: "/") {
            current += current.isEmpty ? String(part) : "/" + part
            if mkdir(absolute(current), 0o755) != 0 && errno != EEXIST {
                throw SyncClientError.local("cannot create \(current): \(String(cString: strerror(errno)))")
            }
            guard entry(current)?.isDirectory == true else { throw SyncClientError.local("\(current) is not a directory") }
        }
    }

    /// Removes a file, or a directory with everything in it; a missing path is not an error.
    public func remove(_ relative: String) throws {
        try Self.removeTree(absolute(relative))
        Self.syncDirectory(parentAbsolute(relative))
    }

    /// Renames `from` to `to` (parents of `to` created); `to` must not exist.
    public func move(from: String, to: String) throws {
        if entry(to) != nil { throw SyncClientError.local("cannot move \(from): \(to) exists") }
        if let slash = to.lastIndex(of: "/") { try makeDirectory(String(to[..<slash])) }
        guard rename(absolute(from), absolute(to)) == 0 else {
            throw SyncClientError.local("cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
        }
        Self.syncDirectory(parentAbsolute(to))
    }

    private func parentAbsolute(_ relative: String) -> String {
        relative.lastIndex(of: "/").map { absolute(String(relative[..<$0])) } ?? root
    }

    // MARK: - Helpers

    static func entries(of directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func removeTree(_ absolute: String) throws {
        var st = stat()
        guard lstat(absolute, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            for name in entries(of: absolute) { try removeTree(absolute + "/" + name) }
            if rmdir(absolute) != 0 && errno != ENOENT { throw SyncClientError.local("cannot remove \(absolute): \(String(cString: strerror(errno)))") }
        } else if unlink(absolute) != 0 && errno != ENOENT {
            throw SyncClientError.local("cannot remove \(absolute): \(String(cString: strerror(errno)))")
        }
    }

    static func makeDirectories(_ absolute: String) throws {
        var current = absolute.hasPrefix("/") ? "" : "."
        for part in absolute.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SyncClientError.local("cannot create \(current): \(String(cString: strerror(errno)))") }
        }
    }

    static func syncDirectory(_ absolute: String) {
        let fd = open(absolute, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SyncClientError.local("cannot write \(what): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Temporary file beside `path`, fsync, rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SyncClientError.local("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        do { try writeAll(fd, bytes, what: temporary) } catch { close(fd); unlink(temporary); throw error }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else { throw SyncClientError.local("cannot replace \(path): \(String(cString: strerror(errno)))") }
    }
}
