import CQuantumLinux
import Glibc
import Synchronization

/// A directory whose paths are opened beneath it and never outside it: symbolic links are
/// followed while they stay inside the root, and one that leads out (or a `..` that climbs
/// above the root) makes the path not found (`ENOENT`). `file_server` and `file_sync` open
/// everything through one of these, so a link placed in a served or synced folder cannot
/// publish, list, overwrite or delete the rest of the disk. (Caddy follows links anywhere;
/// Quantum deliberately does not.)
///
/// Paths are resolved by the kernel with `openat2(RESOLVE_BENEATH)` where it has it, else by
/// walking the components from the root's descriptor with `openat`/`readlinkat` (at most 40
/// links, as the kernel). An absolute link is followed when it points inside the root. All
/// calls block: use them off the event loops.
package final class ConfinedRoot: Sendable {
    /// The root as configured.
    public let path: String
    private let fd: Int32
    /// The root with its own links resolved, to recognise absolute links that point inside
    /// it; found only when such a link is met.
    private var realPath: String {
        guard let real = Glibc.realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// Forces the component walk (tests: both ways must give the same answers).
    package static let forceWalk = Atomic<Bool>(false)
    private static let kernelLacksOpenat2 = Atomic<Bool>(false)
    static let maxLinks = 40

    public init(_ path: String) throws(SystemError) {
        let fd = Glibc.open(path, cq_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("open \(path)") }
        self.fd = fd
        self.path = path
    }

    deinit { Glibc.close(fd) }

    /// Opens `relative` (`a/b.txt`; leading slashes ignored, empty for the root itself) with
    /// `flags` (`O_CLOEXEC` is added), following links that stay inside. The caller closes
    /// the descriptor. `O_NOFOLLOW` refuses a link as the last component (`ELOOP`).
    public func open(_ relative: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) -> Int32 {
        let name = Self.trimmed(relative)
        let flags = flags | O_CLOEXEC
        if !Self.forceWalk.load(ordering: .relaxed) && !Self.kernelLacksOpenat2.load(ordering: .relaxed) {
            let r = cq_open_beneath(fd, name.isEmpty ? "." : name, flags, UInt32(mode))
            if r >= 0 { return r }
            let code = cq_errno()
            switch code {
            case ENOSYS: Self.kernelLacksOpenat2.store(true, ordering: .relaxed)
            // A link or `..` leading out, an absolute link (which may still point inside), a
            // rename racing the lookup, or a seccomp filter that refuses openat2 with EPERM
            // (older container profiles): the walk decides.
            case EXDEV, EAGAIN, EPERM: break
            default: throw SystemError(operation: "open \(name)", code: code)
            }
        }
        return try walk(name, flags: flags, mode: mode)
    }

    /// The directory holding `relative`'s last component (opened beneath the root) and that
    /// component's name, for calls on the entry itself: `unlinkat`, `renameat`, `mkdirat`,
    /// `fstatat` without following it. The caller closes the descriptor.
    public func parent(of relative: String) throws(SystemError) -> (fd: Int32, name: String) {
        let name = Self.trimmed(relative)
        guard let slash = name.utf8.lastIndex(of: UInt8(ascii: "/")) else {
            guard !name.isEmpty, name != ".", name != ".." else { throw SystemError(operation: "parent of \(name)", code: EINVAL) }
            return (try open("", cq_O_PATH | O_DIRECTORY), name)
        }
        let last = String(name[name.utf8.index(after: slash)...])
        guard last != ".", last != ".." else { throw SystemError(operation: "parent of \(name)", code: EINVAL) }
        return (try open(String(name[..<slash]), cq_O_PATH | O_DIRECTORY), last)
    }

    /// The status of `relative`; with `followLast` false, of a link itself rather than its target.
    public func status(_ relative: String, followLast: Bool) throws(SystemError) -> stat {
        var st = stat()
        if followLast || Self.trimmed(relative).isEmpty {
            let fd = try open(relative, cq_O_PATH)
            defer { Glibc.close(fd) }
            guard fstat(fd, &st) == 0 else { throw SystemError.last("fstat \(relative)") }
            return st
        }
        let (dir, name) = try parent(of: relative)
        defer { Glibc.close(dir) }
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.last("stat \(relative)") }
        return st
    }

    /// Removes `relative` — a file, a link (not what it points to), or a directory with
    /// everything in it — never following a link on the way down.
    public func remove(_ relative: String) throws(SystemError) {
        let (dir, name) = try parent(of: relative)
        defer { Glibc.close(dir) }
        try Self.removeTree(dir, name)
    }

    private static func removeTree(_ dir: Int32, _ name: String) throws(SystemError) {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { throw SystemError.last("stat \(name)") }
        if st.st_mode & S_IFMT == S_IFDIR {
            let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw SystemError.last("open \(name)") }
            defer { Glibc.close(fd) }
            for child in entries(ofDirectory: dup(fd)) ?? [] { try removeTree(fd, child) }
            guard unlinkat(dir, name, AT_REMOVEDIR) == 0 else { throw SystemError.last("remove \(name)") }
        } else if unlinkat(dir, name, 0) != 0 {
            throw SystemError.last("remove \(name)")
        }
    }

    /// The names in directory `relative` (without `.` and `..`), or nil when it cannot be read.
    public func entries(of relative: String) -> [String]? {
        guard let fd = try? open(relative, O_RDONLY | O_DIRECTORY) else { return nil }
        return Self.entries(ofDirectory: fd)
    }

    /// Each entry of directory `relative` with its status (a link's own, not its target's):
    /// one open for the directory and one `fstatat` per entry, where `entries` then `status`
    /// would resolve every entry's path from the root again. False when it cannot be read.
    @discardableResult
    public func forEachEntry(in relative: String, _ body: (String, stat) -> Void) -> Bool {
        guard let dir = try? open(relative, O_RDONLY | O_DIRECTORY) else { return false }
        defer { Glibc.close(dir) }
        let copy = dup(dir)
        guard copy >= 0, let names = Self.entries(ofDirectory: copy) else { return false }
        var st = stat()
        for name in names where fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { body(name, st) }
        return true
    }

    /// Reads the names in an open directory and closes it.
    package static func entries(ofDirectory fd: Int32) -> [String]? {
        guard let dir = fdopendir(fd) else { Glibc.close(fd); return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: - The walk

    /// Resolves `relative` one component at a time from the root's descriptor: `..` pops a
    /// directory (never the root), a link's target is spliced into what is left to resolve.
    private func walk(_ relative: String, flags: Int32, mode: mode_t) throws(SystemError) -> Int32 {
        var pending = Array(Self.components(relative).reversed())
        var opened: [Int32] = []  // directories below the root, innermost last
        defer { for d in opened { Glibc.close(d) } }
        var links = 0
        func notFound() -> SystemError { SystemError(operation: "open \(relative)", code: ENOENT) }
        while let name = pending.popLast() {
            if name == "." { continue }
            if name == ".." {
                guard let d = opened.popLast() else { throw notFound() }  // above the root
                Glibc.close(d)
                continue
            }
            let dir = opened.last ?? fd
            var st = stat()
            let isLink = fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFLNK
            if isLink && !(pending.isEmpty && flags & O_NOFOLLOW != 0) {
                links += 1
                guard links <= Self.maxLinks else { throw SystemError(operation: "open \(relative)", code: ELOOP) }
                guard let target = Self.readLink(dir, name) else { throw SystemError.last("readlink \(relative)") }
                if target.hasPrefix("/") {
                    guard let inside = inside(target) else { throw notFound() }
                    for d in opened { Glibc.close(d) }
                    opened.removeAll()
                    pending.append(contentsOf: Self.components(inside).reversed())
                } else {
                    pending.append(contentsOf: Self.components(target).reversed())
                }
                continue
            }
            let last = pending.isEmpty
            let r = last ? openat(dir, name, flags | O_NOFOLLOW, mode)
                         : openat(dir, name, cq_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if r < 0 {
                let code = cq_errno()
                // Replaced by a link since the fstatat: look at it again (counted as a link).
                if code == ELOOP && !(last && flags & O_NOFOLLOW != 0) && links < Self.maxLinks {
                    links += 1
                    pending.append(name)
                    continue
                }
                throw SystemError(operation: "open \(relative)", code: code)
            }
            if last { return r }
            opened.append(r)
        }
        // The path ended on a directory (the root, or after `.` or `..`).
        let r = openat(opened.last ?? fd, ".", flags, mode)
        guard r >= 0 else { throw SystemError.last("open \(relative)") }
        return r
    }

    /// An absolute link target relative to the root, or nil when it points outside.
    private func inside(_ target: String) -> String? {
        for base in [realPath, path] {
            if target == base { return "" }
            let prefix = base == "/" ? "/" : base + "/"
            if target.hasPrefix(prefix) { return String(target.dropFirst(prefix.count)) }
        }
        return nil
    }

    private static func readLink(_ dir: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBufferPointer { readlinkat(dir, name, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private static func trimmed(_ relative: String) -> String {
        var s = Substring(relative)
        while s.hasPrefix("/") { s.removeFirst() }
        return String(s)
    }
}
