import QuantumCore

/// Continuity across restarts: the index is saved in the state directory, and the next start
/// compares the disk with it, so what changed while the server was down reaches clients as
/// ordinary operations (catching up with `since` gets them).
extension SyncStore {
    var savedIndexPath: String { stateDirectory + "/" + SavedIndex.fileName }

    /// Walks the tree — hashing only files whose stamp differs from the saved index — makes it
    /// the index, and returns what changed since the index was saved: the operations the disk
    /// watcher would have reported. Nothing on the first start (no saved index).
    func resume() -> [SyncOperation] {
        // Paths ignored now (a glob added since) are not "deleted": they are out of the sync.
        let saved = SavedIndex.read(from: savedIndexPath)?.filter { SyncPath($0.key).map { !ignore.ignores($0) } ?? false }
        let found = walkAll(previous: saved ?? [:])
        changeIndex { $0 = found }
        if found == saved { savedVersion.store(indexVersion.load(ordering: .relaxed), ordering: .relaxed) } else { saveIndex() }
        guard let saved else { return [] }
        return Self.changes(from: saved, to: found)
    }

    /// `saved` → `found` as operations: deletions first (a deleted directory once, not each
    /// thing in it; a file that became a directory, or the reverse, is deleted then created),
    /// then creations and updates, parents before children.
    static func changes(from saved: [String: IndexEntry], to found: [String: IndexEntry]) -> [SyncOperation] {
        var gone: Set<String> = []
        for (path, old) in saved where found[path]?.metadata.isDirectory != old.metadata.isDirectory { gone.insert(path) }
        var ops: [SyncOperation] = []
        for path in gone.sorted() where !hasAncestor(path, in: gone) { ops.append(.delete(path: path)) }
        var appeared: [SyncOperation] = []
        for (path, now) in found {
            if let old = saved[path], !gone.contains(path) {
                if !now.metadata.isDirectory && old.metadata.hash != now.metadata.hash { appeared.append(.update(now.metadata)) }
            } else {
                appeared.append(.create(now.metadata))
            }
        }
        return ops + appeared.sorted { $0.paths[0] < $1.paths[0] }
    }

    private static func hasAncestor(_ path: String, in set: Set<String>) -> Bool {
        var current = SyncPath(path)?.parent
        while let p = current, !p.isRoot {
            if set.contains(p.relative) { return true }
            current = p.parent
        }
        return false
    }

    /// Writes the index when it changed since the last write: on the heartbeat and when the
    /// handler lets go of the root. A crash loses what came since; those changes are then
    /// reported again at the next start, and each applies the same way twice.
    func saveIndex() {
        savingIndex.withLock { _ in
            let version = indexVersion.load(ordering: .relaxed)
            guard version != savedVersion.load(ordering: .relaxed) else { return }
            do {
                try SavedIndex.write(indexSnapshot, to: savedIndexPath)
                savedVersion.store(version, ordering: .relaxed)
            } catch {
                ServerLog.warn("file_sync", "cannot save the index of \(root): \(error); changes made while the server is down may go unnoticed")
            }
        }
    }
}
