import CQuantumLinux
import Foundation
import Glibc
import QuantumCore
import Synchronization

/// A change the watcher saw in the client's folder.
public enum LocalChange: Sendable, Equatable {
    /// Something at this path was created, written, deleted or changed type: compare it.
    case changed(String)
    /// A rename inside the folder (both halves seen): can be sent to the server as a move.
    case moved(from: String, to: String)
}

/// Watches the client's folder with inotify — every directory, new ones as they appear — and
/// hands over debounced batches of changes. Like the server's `DiskWatcher`, but it only
/// reports paths: the client decides what they mean by comparing with its state, which is
/// also what keeps it from echoing the changes it just applied from the server (those already
/// match the state by the time the batch is looked at).
final class LocalWatcher: @unchecked Sendable {
    private let tree: LocalTree
    private let onChange: @Sendable ([LocalChange]) -> Void
    private let quietMillis: Int32
    private let fd: Int32
    private let stopped = Atomic<Bool>(false)
    // Watcher thread only (and `start`, before the thread runs).
    private var watches: [Int32: String] = [:]
    private var pending: [LocalChange] = []
    private var movesFrom: [UInt32: String] = [:]

    init?(tree: LocalTree, quietMillis: Int32 = 100, onChange: @escaping @Sendable ([LocalChange]) -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        self.tree = tree
        self.quietMillis = quietMillis
        self.onChange = onChange
    }

    /// Adds the watches (so nothing after this call is missed), then watches on a thread.
    func start() {
        addTree("")
        let thread = Thread { [self] in run() }
        thread.name = "quantum-sync-client-watch"
        thread.start()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// No `IN_MODIFY`, and a file's `IN_CREATE` is skipped below: a file is looked at once it
    /// is closed after writing, so a half-written file is not uploaded first.
    private static let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)

    private func addTree(_ relative: String) {
        let wd = inotify_add_watch(fd, relative.isEmpty ? tree.root : tree.absolute(relative), Self.mask | UInt32(IN_ONLYDIR))
        guard wd >= 0 else { return }
        watches[wd] = relative
        for name in LocalTree.entries(of: relative.isEmpty ? tree.root : tree.absolute(relative)) {
            let child = relative.isEmpty ? name : relative + "/" + name
            guard tree.isSyncable(child), tree.entry(child)?.isDirectory == true else { continue }
            addTree(child)
        }
    }

    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate(); close(fd) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopped.load(ordering: .relaxed) {
            let busy = !pending.isEmpty || !movesFrom.isEmpty
            if poll(&pfd, 1, busy ? quietMillis : 200) > 0 {
                readEvents(buffer)
                continue
            }
            if busy { flush() }
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
            guard let directory = watches[event.wd], nameLength > 0 else { continue }
            let name = String(decoding: UnsafeRawBufferPointer(start: namePointer, count: nameLength).prefix { $0 != 0 }, as: UTF8.self)
            let path = directory.isEmpty ? name : directory + "/" + name
            guard tree.isSyncable(path) else { continue }
            let isDirectory = event.mask & UInt32(IN_ISDIR) != 0
            if event.mask & UInt32(IN_MOVED_FROM) != 0 {
                movesFrom[event.cookie] = path
                continue
            }
            if event.mask & UInt32(IN_MOVED_TO) != 0, let from = movesFrom.removeValue(forKey: event.cookie) {
                if isDirectory { renameWatches(from: from, to: path) }
                pending.append(.moved(from: from, to: path))
                continue
            }
            if event.mask & UInt32(IN_CREATE) != 0 && !isDirectory { continue }  // its IN_CLOSE_WRITE follows
            if isDirectory && event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { addTree(path) }
            pending.append(.changed(path))
        }
    }

    /// A directory renamed inside the folder keeps its watches; their paths move with it.
    private func renameWatches(from: String, to: String) {
        for (wd, path) in watches where path == from || path.hasPrefix(from + "/") {
            watches[wd] = to + path.dropFirst(from.count)
        }
    }

    private func flush() {
        // A rename whose other half never came moved something out of (or into) the folder.
        for (_, from) in movesFrom { pending.append(.changed(from)) }
        movesFrom.removeAll()
        var seen = Set<String>()
        var batch: [LocalChange] = []
        for change in pending {
            if case .changed(let p) = change {
                if !seen.insert(p).inserted { continue }
            }
            batch.append(change)
        }
        pending.removeAll()
        if !batch.isEmpty { onChange(batch) }
    }
}
