import Glibc
import QuantumCore

/// One file or directory in the client's folder as it is now: the same fields the state keeps
/// for what was last synced, so an entry is recorded as synced as it is.
public typealias LocalEntry = ClientState.Entry

/// The client's folder on disk. Paths are relative and `/`-separated like the server's; every
/// path (ours or one the server sent) must pass `SyncPath`, and is opened through a
/// `ConfinedRoot`, so nothing lands outside the folder: not even through a link inside it
/// that points out (a server naming `link/x` cannot write, move or delete what `link` leads to).
///
/// Downloads are written to `.quantum-sync-client/tmp`, fsync'd and renamed into place: no
/// program ever sees half a file at its final path. Symlinks and special files are skipped.
/// All methods block; the client calls them from its own task, never on an event loop.
public struct LocalTree: Sendable {
    public let root: String
    private let confined: ConfinedRoot
    public static let stateDirectoryName = ".quantum-sync-client"
    public var stateDirectory: String { root + "/" + Self.stateDirectoryName }
    var temporaryDirectory: String { stateDirectory + "/tmp" }

    public init(root: String) throws {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        try Self.makeDirectories(r + "/" + Self.stateDirectoryName + "/tmp")
        do { confined = try ConfinedRoot(r) } catch { throw SyncClientError.local("cannot open \(r): \(error)") }
        // Downloads a crash cut short left only temporary files.
        for name in Self.entries(of: temporaryDirectory) { unlink(temporaryDirectory + "/" + name) }
    }

    /// Whether `relative` is a path both sides may sync (valid, not a state directory).
    public func isSyncable(_ relative: String) -> Bool {
        guard let p = SyncPath(relative), !p.isRoot, p.relative == relative else { return false }
        return !(relative == Self.stateDirectoryName || relative.hasPrefix(Self.stateDirectoryName + "/"))
    }


    /// Where an upload reads `relative` from (the client's own scan found it: no link on the way).
    func absolute(_ relative: String) -> String { root + "/" + relative }

    // MARK: - Reading

    /// Every syncable entry under `under` (the whole folder by default), hashing only files whose
    /// size or mtime differ from `cache` (or that changed within the last two seconds, which an
    /// mtime of coarse granularity could hide).
    public func scan(under: String = "", cache: [String: ClientState.Entry] = [:]) -> [String: LocalEntry] {
        var out: [String: LocalEntry] = [:]
        func walk(_ directory: String) {
            for name in (confined.entries(of: directory) ?? []).sorted() {
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
        guard let st = try? confined.status(relative, followLast: false) else { return nil }
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
            guard let fd = try? confined.open(relative, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) else { return nil }
            defer { close(fd) }
            guard let digest = try? Digest.sha256(fd: fd) else { return nil }
            return LocalEntry(isDirectory: false, hash: Digest.hex(digest), size: size, mtimeNanos: mtime)
        default:
            return nil
        }
    }

    // MARK: - Downloads

    /// A download in progress: a temporary file in the state directory, hashed as it is written.
    /// `@unchecked Sendable`: one `fetch` uses it, one call at a time (written, then placed).
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
        do {
            try onEntry(relative) { dir, name in
                guard renameat(AT_FDCWD, download.path, dir, name) == 0 else {
                    throw SyncClientError.local("cannot place \(relative): \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            unlink(download.path)
            throw error
        }
        syncParent(of: relative)
        let st = (try? confined.status(relative, followLast: false)) ?? stat()
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return LocalEntry(isDirectory: false, hash: hash, size: download.size, mtimeNanos: mtime)
    }

    // MARK: - Changes

    /// Creates a directory and its parents.
    public func makeDirectory(_ relative: String) throws {
        var current = ""
        for part in relative.split(separator: "/") {
            current += current.isEmpty ? String(part) : "/" + part
            try onEntry(current) { [current] dir, name in
                if mkdirat(dir, name, 0o755) != 0 && errno != EEXIST {
                    throw SyncClientError.local("cannot create \(current): \(String(cString: strerror(errno)))")
                }
            }
            // A link to a directory inside the folder will do (what is below it stays inside).
            let st = try? confined.status(current, followLast: true)
            guard st.map({ $0.st_mode & S_IFMT == S_IFDIR }) == true else { throw SyncClientError.local("\(current) is not a directory") }
        }
    }

    /// Removes a file, or a directory with everything in it; a missing path is not an error.
    public func remove(_ relative: String) throws {
        do {
            try confined.remove(relative)
        } catch where error.code == ENOENT {
            return
        } catch {
            throw SyncClientError.local("cannot remove \(relative): \(error)")
        }
        syncParent(of: relative)
    }

    /// Renames `from` to `to` (parents of `to` created); `to` must not exist.
    public func move(from: String, to: String) throws {
        if entry(to) != nil { throw SyncClientError.local("cannot move \(from): \(to) exists") }
        if let slash = to.lastIndex(of: "/") { try makeDirectory(String(to[..<slash])) }
        try onEntry(from) { fromDir, fromName in
            try onEntry(to) { toDir, toName in
                guard renameat(fromDir, fromName, toDir, toName) == 0 else {
                    throw SyncClientError.local("cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
                }
            }
        }
        syncParent(of: to)
    }

    /// Runs `body` with the directory holding `relative` (opened inside the folder) and its name.
    private func onEntry(_ relative: String, _ body: (Int32, String) throws -> Void) throws {
        let dir: Int32, name: String
        do { (dir, name) = try confined.parent(of: relative) } catch {
            throw SyncClientError.local("cannot reach \(relative) inside the folder: \(error)")
        }
        defer { close(dir) }
        try body(dir, name)
    }

    private func syncParent(of relative: String) {
        let parent = relative.lastIndex(of: "/").map { String(relative[..<$0]) } ?? ""
        guard let fd = try? confined.open(parent, O_RDONLY | O_DIRECTORY) else { return }
        fsync(fd)
        close(fd)
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

    static func makeDirectories(_ absolute: String) throws {
        var current = absolute.hasPrefix("/") ? "" : "."
        for part in absolute.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SyncClientError.local("cannot create \(current): \(String(cString: strerror(errno)))") }
        }
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
