import CQuantumLinux
import Glibc
import QuantumCore
import Synchronization

/// A change the watcher saw in the client's folder.
public enum LocalChange: Sendable, Equatable {
    /// Something at this path was created, written, deleted or changed type: compare it.
    case changed(String)
    /// A rename inside the folder (both halves seen): can be sent to the server as a move.
    case moved(from: String, to: String)

    /// The paths it names (for messages).
    public var paths: [String] {
        switch self {
        case .changed(let path): [path]
        case .moved(let from, let to): [from, to]
        }
    }
}

/// Watches the client's folder with inotify — every directory, new ones as they appear — and
/// hands over debounced batches of changes. Like the server's `DiskWatcher`, but it only
/// reports paths: the client decides what they mean by comparing with its state, which is
/// also what keeps it from echoing the changes it just applied from the server (those already
/// match the state by the time the batch is looked at).
/// `@unchecked Sendable`: its mutable state is used by the inotify watcher thread only.
final class LocalWatcher: @unchecked Sendable {
    private let tree: LocalTree
    private let onChange: @Sendable ([LocalChange]) -> Void
    private let quietMillis: Int32
    private let inotify: InotifyTree
    // The watcher thread only.
    private var pending: [LocalChange] = []
    private var movesFrom: [UInt32: String] = [:]

    /// No `IN_MODIFY`, and a file's `IN_CREATE` is skipped below: a file is looked at once it
    /// is closed after writing, so a half-written file is not uploaded first.
    private static let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB)

    init?(tree: LocalTree, quietMillis: Int32 = 100, onChange: @escaping @Sendable ([LocalChange]) -> Void) {
        guard let inotify = InotifyTree(root: tree.root, mask: Self.mask, include: { tree.isSyncable($0) }) else { return nil }
        self.inotify = inotify
        self.tree = tree
        self.quietMillis = quietMillis
        self.onChange = onChange
    }

    /// Adds the watches (so nothing after this call is missed), then watches on a thread.
    func start() {
        inotify.start(threadName: "sync-inotify", quietMillis: quietMillis,
                      hasPending: { !self.pending.isEmpty || !self.movesFrom.isEmpty },
                      event: { self.received($0) }, quiet: { self.flush() })
    }

    func stop() { inotify.stop() }

    private func received(_ event: InotifyTree.Event) {
        guard event.hasName else { return }
        let path = event.path
        if event.has(IN_MOVED_FROM) {
            movesFrom[event.cookie] = path
            return
        }
        if event.has(IN_MOVED_TO), let from = movesFrom.removeValue(forKey: event.cookie) {
            if event.isDirectory { inotify.renameWatches(from: from, to: path) }
            pending.append(.moved(from: from, to: path))
            return
        }
        if event.has(IN_CREATE) && !event.isDirectory { return }  // its IN_CLOSE_WRITE follows
        if event.isDirectory && event.has(IN_CREATE | IN_MOVED_TO) { inotify.watch(path) }
        pending.append(.changed(path))
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
