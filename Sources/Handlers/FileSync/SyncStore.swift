import CQuantumLinux
import Glibc
import QuantumCore
import Synchronization

/// The synced tree on disk, and what the server believes is in it (`index`, path → metadata).
///
/// Every method blocks: callers run them on `BlockingPool`. Changes go through `commit`,
/// `delete`, `makeDirectory` and `move`, which update the index, so the disk watcher can tell
/// the API's own changes from other programs'. Uploads land in a temporary file in the state
/// directory, are fsync'd, then renamed into place: a reader never sees half a file.
///
/// Every path is opened through a `ConfinedRoot`: a link that stays inside the root is followed
/// on the way to an entry, one that leads out makes the path not found. Links themselves are
/// not synced entries (never listed, transferred, or deleted through).
public final class SyncStore: Sendable {
    public let root: String
    public let ignore: IgnoreRules
    private let confined: ConfinedRoot
    let stateDirectory: String
    private let temporaryDirectory: String
    private let index = Mutex<[String: IndexEntry]>([:])
    /// Bumped by every change to the index; `saveIndex` writes only when it moved.
    let indexVersion = Atomic<Int>(0)
    let savedVersion = Atomic<Int>(-1)
    let savingIndex = Mutex<Void>(())
    /// Serialises changes, so an If-Match check and the change it guards are one step.
    private let changes = Mutex<Void>(())

    public init(root: String, ignore: IgnoreRules) throws {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        self.ignore = ignore
        stateDirectory = r + "/" + SyncPath.stateDirectory
        temporaryDirectory = stateDirectory + "/tmp"
        try Self.makeDirectories(temporaryDirectory)
        confined = try ConfinedRoot(r)
        // Uploads cut short by a crash left only temporary files: remove them.
        for name in Self.entries(of: temporaryDirectory) { unlink(temporaryDirectory + "/" + name) }
    }

    // MARK: - Reading

    /// The whole tree described, reusing `previous` hashes where the stamps agree.
    func walkAll(previous: [String: IndexEntry]) -> [String: IndexEntry] {
        var found: [String: IndexEntry] = [:]
        found.reserveCapacity(previous.count)
        walk(.root) { path, st in
            if let entry = self.describe(path, st, previous: previous[path.relative]) { found[path.relative] = entry }
        }
        return found
    }

    /// Every change to the index goes through here (so `saveIndex` knows there is news).
    func changeIndex<T>(_ body: (inout [String: IndexEntry]) -> T) -> T {
        index.withLock { entries in
            indexVersion.add(1, ordering: .relaxed)
            return body(&entries)
        }
    }

    /// A copy of the index.
    var indexSnapshot: [String: IndexEntry] { index.withLock { $0 } }

    /// Everything under `path` (recursive, sorted), fresh from the disk.
    public func list(under path: SyncPath) throws -> [FileMetadata] {
        guard let top = stat(path) else { throw HTTPError(404, "no such path: \(path)") }
        if top.st_mode & S_IFMT != S_IFDIR { return [try metadataOrThrow(path)] }
        let known = index.withLock { $0 }
        var out: [IndexEntry] = []
        walk(path) { p, st in
            if let entry = self.describe(p, st, previous: known[p.relative]) { out.append(entry) }
        }
        changeIndex { for entry in out { $0[entry.metadata.path] = entry } }
        return out.map(\.metadata).sorted { $0.path < $1.path }
    }

    /// Metadata of one path, nil when it does not exist.
    public func metadata(_ path: SyncPath) -> FileMetadata? {
        guard let st = stat(path) else { return nil }
        return describe(path, st, previous: index.withLock { $0[path.relative] })?.metadata
    }

    private func metadataOrThrow(_ path: SyncPath) throws -> FileMetadata {
        guard let m = metadata(path) else { throw HTTPError(404, "no such path: \(path)") }
        return m
    }

    /// The entry itself (a link is not followed as the last component), nil when missing.
    func stat(_ path: SyncPath) -> stat? { try? confined.status(path.relative, followLast: false) }

    /// Opens a regular file for reading (blocking); 404 when it is missing or not a plain file.
    public func openFile(_ path: SyncPath) throws -> OpenFile {
        // O_NONBLOCK: a FIFO swapped in must not hold a pool thread (it is refused below).
        guard let fd = try? confined.open(path.relative, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) else { throw HTTPError(404, "no such file: \(path)") }
        let file = OpenFile(fd: fd)
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw HTTPError(404, "no such file: \(path)") }
        return file
    }

    /// The entry for `path` as `st` shows it. A file's hash is taken from `previous` when its
    /// stamp is the same and it was not modified in the last seconds (a write in the same clock
    /// tick as the stamp would not show), else computed.
    private func describe(_ path: SyncPath, _ st: stat, previous: IndexEntry?) -> IndexEntry? {
        let isDirectory = st.st_mode & S_IFMT == S_IFDIR
        guard isDirectory || st.st_mode & S_IFMT == S_IFREG else { return nil }  // no symlinks, devices, sockets
        let modified = RFC3339.format(epochSeconds: st.st_mtim.tv_sec)
        if isDirectory { return IndexEntry(FileMetadata(path: path.relative, size: 0, hash: "", modified: modified, isDirectory: true)) }
        let size = Int(st.st_size)
        let stamp = FileStamp(st)
        if let previous, !previous.metadata.isDirectory, previous.stamp == stamp, !previous.metadata.hash.isEmpty,
           st.st_mtim.tv_sec < SystemClock.wallSeconds() - 1 {
            return IndexEntry(FileMetadata(path: path.relative, size: size, hash: previous.metadata.hash, modified: modified, isDirectory: false),
                              stamp: stamp)
        }
        guard let file = try? openFile(path), let digest = try? Digest.sha256(fd: file.fd) else { return nil }
        // The stamp read before hashing: a write during the hash changes it, and the next look hashes again.
        return IndexEntry(FileMetadata(path: path.relative, size: size, hash: Digest.hex(digest), modified: modified, isDirectory: false),
                          stamp: stamp)
    }

    /// Calls `body` for every entry below `path`, parents before children.
    private func walk(_ path: SyncPath, _ body: (SyncPath, stat) -> Void) {
        var children: [(name: String, status: stat)] = []
        confined.forEachEntry(in: path.relative) { children.append(($0, $1)) }
        for (name, st) in children.sorted(by: { $0.name < $1.name }) {
            guard let child = path.appending(name), !ignore.ignores(child) else { continue }
            body(child, st)
            if st.st_mode & S_IFMT == S_IFDIR { walk(child, body) }
        }
    }

    static func entries(of directory: String) -> [String] {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        return ConfinedRoot.entries(ofDirectory: fd) ?? []
    }

    // MARK: - Uploads

    /// A file being uploaded: written to a temporary file and hashed as it comes.
    /// `@unchecked Sendable`: one request uses it, awaiting each blocking-pool call before the next.
    public final class Upload: @unchecked Sendable {
        let fd: Int32
        let temporaryPath: String
        let hasher = SHA256Stream()
        private(set) var size = 0

        init(fd: Int32, temporaryPath: String) {
            self.fd = fd
            self.temporaryPath = temporaryPath
        }

        public func write(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 { if errno == EINTR { continue }; throw HTTPError(507, "cannot write the upload: \(String(cString: strerror(errno)))") }
                offset += n
            }
            hasher.update(bytes)
            size += bytes.count
        }

        /// Drops the upload (a failed or refused request).
        public func discard() {
            close(fd)
            unlink(temporaryPath)
        }
    }

    public func beginUpload() throws -> Upload {
        let path = temporaryDirectory + "/upload-\(UUIDv4.make())"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HTTPError(507, "cannot create a temporary file: \(String(cString: strerror(errno)))") }
        return Upload(fd: fd, temporaryPath: path)
    }

    /// Moves a finished upload to `path` (parents created). With `ifMatch`, the file there must
    /// currently have that hash (`*`: must exist) or nothing changes (412).
    public func commit(_ upload: Upload, to path: SyncPath, ifMatch: String?) throws -> SyncOperation {
        guard !path.isRoot, !ignore.ignores(path) else { upload.discard(); throw HTTPError(403, "path not allowed: \(path)") }
        fsync(upload.fd)
        close(upload.fd)
        let hash = Digest.hex(upload.hasher.finish())
        return try changes.withLock { _ in
            let existing = metadata(path)
            if existing?.isDirectory == true { unlink(upload.temporaryPath); throw HTTPError(409, "\(path) is a directory") }
            do { try check(ifMatch, existing) } catch { unlink(upload.temporaryPath); throw error }
            do {
                if let parent = path.parent { try makeParents(parent) }
                try onEntry(path) { dir, name in
                    guard renameat(AT_FDCWD, upload.temporaryPath, dir, name) == 0 else {
                        throw HTTPError(409, "cannot place \(path): \(String(cString: strerror(errno)))")
                    }
                }
            } catch {
                unlink(upload.temporaryPath)
                throw error
            }
            syncDirectory(path.parent ?? .root)
            let st = stat(path)
            let m = FileMetadata(path: path.relative, size: upload.size, hash: hash,
                                 modified: RFC3339.format(epochSeconds: (st ?? Glibc.stat()).st_mtim.tv_sec), isDirectory: false)
            changeIndex { $0[path.relative] = IndexEntry(m, stamp: st.map(FileStamp.init)) }
            return existing == nil ? .create(m) : .update(m)
        }
    }

    /// Where a 412's error carries the current hash (empty: nothing there, or a directory).
    public static let currentHashPlaceholder = "http.file_sync.current_hash"

    /// `If-Match`: `*` holds when something is there (a directory too); a hash only when the
    /// file has that content.
    private func check(_ ifMatch: String?, _ existing: FileMetadata?) throws {
        guard var expected = ifMatch?.trimmingOWS() else { return }
        func failed(_ message: String) -> HTTPError {
            HTTPError(412, message, placeholders: [Self.currentHashPlaceholder: existing?.hash ?? ""])
        }
        if expected == "*" {
            if existing == nil { throw failed("nothing is there") }
            return
        }
        if expected.hasPrefix("\"") && expected.hasSuffix("\"") && expected.count >= 2 { expected = expected.dropFirst().dropLast() }
        guard let existing, !existing.isDirectory, existing.hash == String(expected) else {
            if existing?.isDirectory == true { throw failed("it is a directory") }
            throw failed("the file changed: its hash is \(existing?.hash ?? "none")")
        }
    }

    // MARK: - Other changes

    /// Deletes a file, or a directory with everything in it.
    public func delete(_ path: SyncPath, ifMatch: String?) throws -> SyncOperation {
        guard !path.isRoot else { throw HTTPError(403, "the root cannot be deleted") }
        return try changes.withLock { _ in
            guard let existing = metadata(path) else { throw HTTPError(404, "no such path: \(path)") }
            try check(ifMatch, existing)
            do { try confined.remove(path.relative) } catch { throw HTTPError(409, "cannot delete \(path): \(error)") }
            syncDirectory(path.parent ?? .root)
            changeIndex { idx in for key in idx.keys where SyncPath(key)?.isWithin(path) == true { idx[key] = nil } }
            return .delete(path: path.relative)
        }
    }

    /// Creates a directory and its parents; nil when it already existed.
    public func makeDirectory(_ path: SyncPath) throws -> SyncOperation? {
        guard !path.isRoot, !ignore.ignores(path) else { throw HTTPError(403, "path not allowed: \(path)") }
        return try changes.withLock { _ in
            if let existing = metadata(path) {
                if existing.isDirectory { return nil }
                throw HTTPError(409, "\(path) is a file")
            }
            try makeParents(path)
            guard let m = metadata(path) else { throw HTTPError(500, "cannot create \(path)") }
            changeIndex { $0[path.relative] = IndexEntry(m) }
            return .create(m)
        }
    }

    /// Renames `from` to `to` (parents of `to` created); `to` must not exist.
    public func move(from: SyncPath, to: SyncPath) throws -> SyncOperation {
        guard !from.isRoot, !to.isRoot, !ignore.ignores(to) else { throw HTTPError(403, "path not allowed") }
        guard !to.isWithin(from) else { throw HTTPError(409, "cannot move \(from) into itself") }
        return try changes.withLock { _ in
            guard metadata(from) != nil else { throw HTTPError(404, "no such path: \(from)") }
            if stat(to) != nil { throw HTTPError(409, "\(to) already exists") }
            if let parent = to.parent { try makeParents(parent) }
            try onEntry(from) { fromDir, fromName in
                try onEntry(to) { toDir, toName in
                    guard renameat(fromDir, fromName, toDir, toName) == 0 else {
                        throw HTTPError(409, "cannot move \(from): \(String(cString: strerror(errno)))")
                    }
                }
            }
            syncDirectory(to.parent ?? .root)
            changeIndex { idx in
                for key in Array(idx.keys) {
                    guard let p = SyncPath(key), p.isWithin(from), var entry = idx[key] else { continue }
                    idx[key] = nil
                    entry.metadata.path = to.relative + String(key.dropFirst(from.relative.count))
                    idx[entry.metadata.path] = entry
                }
            }
            return .move(from: from.relative, to: to.relative)
        }
    }

    // MARK: - The disk watcher's view

    /// Compares `path` on disk with the index and returns what changed (other programs'
    /// changes; the API's own are already in the index and yield nothing).
    public func reconcile(_ path: SyncPath) -> [SyncOperation] {
        guard !path.isRoot, !ignore.ignores(path) else { return [] }
        let knownEntry = index.withLock { $0[path.relative] }
        let known = knownEntry?.metadata
        guard let st = stat(path), let entry = describe(path, st, previous: knownEntry) else {
            guard known != nil else { return [] }
            changeIndex { idx in for key in idx.keys where SyncPath(key)?.isWithin(path) == true { idx[key] = nil } }
            return [.delete(path: path.relative)]
        }
        let now = entry.metadata
        var ops: [SyncOperation] = []
        if let known {
            if known.isDirectory != now.isDirectory { ops.append(.delete(path: path.relative)); ops.append(.create(now)) }
            else if !now.isDirectory && known.hash != now.hash { ops.append(.update(now)) }
        } else {
            ops.append(.create(now))
        }
        changeIndex { $0[path.relative] = entry }
        if now.isDirectory && known == nil {
            // A directory that appeared with contents (moved in, unpacked): report them too.
            let previous = index.withLock { $0 }
            walk(path) { p, st in
                guard previous[p.relative] == nil, let child = self.describe(p, st, previous: nil) else { return }
                self.changeIndex { $0[p.relative] = child }
                ops.append(.create(child.metadata))
            }
        }
        return ops
    }

    // MARK: - Helpers

    private func makeParents(_ path: SyncPath) throws {
        var current = SyncPath.root
        for part in path.relative.split(separator: "/") {
            guard let next = current.appending(String(part)) else { throw HTTPError(400, "invalid path") }
            current = next
            try onEntry(current) { dir, name in
                if mkdirat(dir, name, 0o755) != 0 && errno != EEXIST {
                    throw HTTPError(409, "cannot create \(next): \(String(cString: strerror(errno)))")
                }
            }
            // A link to a directory inside the root will do (the walk below it stays inside).
            let st = try? confined.status(current.relative, followLast: true)
            if st.map({ $0.st_mode & S_IFMT != S_IFDIR }) ?? true { throw HTTPError(409, "\(current) is not a directory") }
            if index.withLock({ $0[current.relative] == nil }), let m = metadata(current) { changeIndex { $0[current.relative] = IndexEntry(m) } }
        }
    }

    /// Runs `body` with the directory holding `path` (opened beneath the root) and its name.
    private func onEntry<T>(_ path: SyncPath, _ body: (Int32, String) throws -> T) throws -> T {
        guard let (dir, name) = try? confined.parent(of: path.relative) else { throw HTTPError(404, "no such path: \(path)") }
        defer { close(dir) }
        return try body(dir, name)
    }

    private func syncDirectory(_ path: SyncPath) {
        guard let fd = try? confined.open(path.relative, O_RDONLY | O_DIRECTORY) else { return }
        fsync(fd)
        close(fd)
    }

    static func makeDirectories(_ absolute: String) throws {
        var current = absolute.hasPrefix("/") ? "" : "."
        for part in absolute.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw SystemError(operation: "mkdir \(current)", code: errno) }
        }
    }
}
