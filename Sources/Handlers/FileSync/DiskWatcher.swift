import CQuantumLinux
import QuantumCore

/// Watches the sync root (every directory, new ones as they appear) so changes other programs
/// make are broadcast too. Events are debounced (a burst settles for `quietMillis` before
/// anything is compared), then each touched path is reconciled with the store's index — the
/// API's own changes are already there and produce nothing.
/// `@unchecked Sendable`: `dirty` is used by the inotify watcher thread only.
final class DiskWatcher: @unchecked Sendable {
    private let store: SyncStore
    private let onChange: @Sendable ([SyncOperation]) -> Void
    private let quietMillis: Int32
    private let tree: InotifyTree
    // The watcher thread only.
    private var dirty: Set<SyncPath> = []

    private static let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ATTRIB | IN_MODIFY)

    init?(store: SyncStore, quietMillis: Int32 = 150, onChange: @escaping @Sendable ([SyncOperation]) -> Void) {
        // `SyncPath` refuses the state directory and odd names; ignore rules do the rest.
        guard let tree = InotifyTree(root: store.root, mask: Self.mask, include: { relative in
            SyncPath(relative).map { !store.ignore.ignores($0) } ?? false
        }) else { return nil }
        self.tree = tree
        self.store = store
        self.quietMillis = quietMillis
        self.onChange = onChange
    }

    func start() {
        tree.start(threadName: "quantum-inotify", quietMillis: quietMillis, hasPending: { !self.dirty.isEmpty },
                   event: { self.received($0) }, quiet: { self.flush() })
    }

    func stop() { tree.stop() }

    private func received(_ event: InotifyTree.Event) {
        guard let path = SyncPath(event.path) else { return }
        if event.isDirectory && event.has(IN_CREATE | IN_MOVED_TO) { tree.watch(event.path) }
        dirty.insert(path)
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
