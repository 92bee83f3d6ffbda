import CQuantumLinux
import Foundation
import Glibc
import QuantumCore
import Synchronization

/// Watches the sync root with inotify (every directory, new ones as they appear) so changes
/// other programs make are broadcast too. Events are debounced (a burst settles for
/// `quietNanos` before anything is compared), then each touched path is reconciled with the
/// store's index — the API's own changes are already there and produce nothing.
final class DiskWatcher: @unchecked Sendable {
    private let store: SyncStore
    private let onChange: @Sendable ([SyncOperation]) -> Void
    private let quietMillis: Int32
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)
    // Watcher thread only.
    private var watches: [Int32: SyncPath] = [:]
    private var dirty: Set<SyncPath> = []

    init?(store: SyncStore, quietMillis: Int32 = 150, onChange: @escaping @Sendable ([SyncOperation]) -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        self.store = store
        self.quietMillis = quietMillis
        self.onChange = onChange
    }

    func start() {
        addTree(.root)
        let thread = Thread { [self] in run() }
        thread.name = "quantum-sync-watch"
        thread.start()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private static let mask: UInt32 = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ATTRIB | IN_MODIFY)

    private func addTree(_ path: SyncPath) {
        guard !store.ignore.ignores(path) || path.isRoot else { return }
        let wd = inotify_add_watch(fd, path.absolute(in: store.root), Self.mask | UInt32(IN_ONLYDIR))
        guard wd >= 0 else { return }
        watches[wd] = path
        for name in SyncStore.entries(of: path.absolute(in: store.root)) {
            guard let child = path.appending(name), let st = store.stat(child), st.st_mode & S_IFMT == S_IFDIR else { continue }
            addTree(child)
        }
    }

    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate(); close(fd) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopped.load(ordering: .relaxed) {
            // Wait for events; once some are pending, wait only until the burst goes quiet.
            let ready = poll(&pfd, 1, dirty.isEmpty ? 200 : quietMillis)
            if ready > 0 {
                readEvents(buffer)
                continue
            }
            if !dirty.isEmpty { flush() }
        }
    }

    private func readEvents(_ buffer: UnsafeMutableRawBufferPointer) {
        let n = read(fd, buffer.baseAddress, buffer.count)
        guard n > 0 else { return }
        var offset = 0
        while offset + MemoryLayout<inotify_event>.size <= n {
            let event = buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: inotify_event.self).pointee
            let nameLength = Int(event.len)
            let namePointer = buffer.baseAddress!.advanced(by: offset + MemoryLayout<inotify_event>.size)
            offset += MemoryLayout<inotify_event>.size + nameLength
            if event.mask & UInt32(IN_IGNORED) != 0 { watches[event.wd] = nil; continue }
            guard let directory = watches[event.wd] else { continue }
            var path = directory
            if nameLength > 0 {
                let name = String(decoding: UnsafeRawBufferPointer(start: namePointer, count: nameLength).prefix { $0 != 0 }, as: UTF8.self)
                guard let child = directory.appending(name) else { continue }  // the state directory, odd names
                path = child
            }
            if path.isRoot || store.ignore.ignores(path) { continue }
            if event.mask & UInt32(IN_ISDIR) != 0 && event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { addTree(path) }
            dirty.insert(path)
        }
    }

    private func flush() {
        // Parents first: a deleted directory takes its children out of the index in one go.
        let paths = dirty.sorted { $0.relative.utf8.count < $1.relative.utf8.count }
        dirty.removeAll()
        var ops: [SyncOperation] = []
        for path in paths { ops += store.reconcile(path) }
        if !ops.isEmpty { onChange(ops) }
    }
}
