import CQuantumLinux
import Glibc
import QuantumCore
import Synchronization

/// inotify over a directory tree, on its own thread: every directory the owner accepts is
/// watched (new ones when the owner asks), events come with their path relative to the root,
/// and a burst ends with `quiet` once nothing arrived for the quiet interval. The server's
/// `DiskWatcher` and the sync client's `LocalWatcher` both sit on it.
/// `@unchecked Sendable`: `watches` is used by the watcher thread only (and `start`, before it runs).
final class InotifyTree: @unchecked Sendable {
    struct Event: Sendable {
        /// Relative to the root; the watched directory itself when the event names no entry.
        let path: String
        let mask: UInt32
        let cookie: UInt32
        /// The event names an entry inside the watched directory.
        let hasName: Bool
        var isDirectory: Bool { mask & UInt32(IN_ISDIR) != 0 }
        func has(_ bits: Int32) -> Bool { mask & UInt32(bits) != 0 }
    }

    let root: String
    private let fd: Int32
    private let mask: UInt32
    private let include: @Sendable (String) -> Bool
    private let stopped = Atomic<Bool>(false)
    // The watcher thread only (and `start`, before it runs).
    private var watches: [Int32: String] = [:]

    /// - include: whether a relative path is watched and reported (ignore rules, state dirs).
    init?(root: String, mask: UInt32, include: @escaping @Sendable (String) -> Bool) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        self.root = root
        self.mask = mask
        self.include = include
    }

    /// Watches the tree, then hands events to `event` on a new thread; `quiet` runs when a
    /// burst settles while `hasPending` says the owner holds something to flush.
    func start(threadName: String, quietMillis: Int32, hasPending: @escaping @Sendable () -> Bool,
               event: @escaping @Sendable (Event) -> Void, quiet: @escaping @Sendable () -> Void) {
        watch("")
        DetachedThread.start(name: threadName) { [self] in run(quietMillis, hasPending, event, quiet) }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Watches `relative` and every directory below it (watcher thread once started).
    func watch(_ relative: String) {
        guard relative.isEmpty || include(relative) else { return }
        let absolute = relative.isEmpty ? root : root + "/" + relative
        let wd = inotify_add_watch(fd, absolute, mask | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW))
        guard wd >= 0 else { return }
        watches[wd] = relative
        let dir = open(absolute, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else { return }
        defer { close(dir) }
        for name in ConfinedRoot.entries(ofDirectory: dup(dir)) ?? [] {
            var st = stat()
            guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFDIR else { continue }
            watch(relative.isEmpty ? name : relative + "/" + name)
        }
    }

    /// A directory renamed inside the tree keeps its watches; their paths move with it.
    func renameWatches(from: String, to: String) {
        for (wd, path) in watches where path == from || path.hasPrefix(from + "/") {
            watches[wd] = to + path.dropFirst(from.count)
        }
    }

    private func run(_ quietMillis: Int32, _ hasPending: () -> Bool, _ event: (Event) -> Void, _ quiet: () -> Void) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate(); close(fd) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopped.load(ordering: .relaxed) {
            // Wait for events; once some are pending, wait only until the burst goes quiet.
            let busy = hasPending()
            if poll(&pfd, 1, busy ? quietMillis : 200) > 0 {
                read(buffer, event)
                continue
            }
            if busy { quiet() }
        }
    }

    private func read(_ buffer: UnsafeMutableRawBufferPointer, _ deliver: (Event) -> Void) {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        guard n > 0 else { return }
        var offset = 0
        while offset + MemoryLayout<inotify_event>.size <= n {
            let raw = buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: inotify_event.self).pointee
            let nameLength = Int(raw.len)
            let namePointer = buffer.baseAddress!.advanced(by: offset + MemoryLayout<inotify_event>.size)
            offset += MemoryLayout<inotify_event>.size + nameLength
            if raw.mask & UInt32(IN_IGNORED) != 0 { watches[raw.wd] = nil; continue }
            guard let directory = watches[raw.wd] else { continue }
            var path = directory
            if nameLength > 0 {
                let name = String(decoding: UnsafeRawBufferPointer(start: namePointer, count: nameLength).prefix { $0 != 0 }, as: UTF8.self)
                path = directory.isEmpty ? name : directory + "/" + name
            }
            if path.isEmpty || !include(path) { continue }
            deliver(Event(path: path, mask: raw.mask, cookie: raw.cookie, hasName: nameLength > 0))
        }
    }
}
