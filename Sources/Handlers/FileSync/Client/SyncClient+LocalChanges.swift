import QuantumCore

/// Sending the folder's changes (from the watcher, or a startup scan) to the server.
///
/// Every path is compared with the state: what still matches its base is not sent, which is
/// how changes this client just applied from the server do not echo back. Uploads carry
/// `If-Match` with the base hash; a 412 means the server changed the file too → conflict.
extension SyncClient {
    func applyLocal(_ changes: [LocalChange]) async {
        for change in changes {
            do {
                switch change {
                case .moved(let from, let to):
                    if try await pushMove(from: from, to: to) { continue }
                    try await pushPath(from)
                    try await pushPath(to)
                case .changed(let path):
                    try await pushPath(path)
                }
            } catch let e as SyncClientError {
                options.log("sync: \(e)")
            } catch {
                // The server is unreachable: the full compare after reconnecting sends it.
                options.log("sync: cannot send \(change.paths.joined(separator: " → ")) now (\(error)); it is sent once the server answers again")
                needsFullCompare = true
            }
        }
        saveState()
    }

    /// Everything that differs from the state (a scan at startup, when the server's side is
    /// caught up by `since`): local edits, creations and deletions made while offline.
    func pushAllLocalChanges() async {
        let local = tree.scan(cache: state.files)
        let paths = Set(local.keys).union(state.files.keys).sorted()
        await applyLocal(paths.map { .changed($0) })
    }

    /// Sends one path's current state; a directory's contents follow it.
    func pushPath(_ path: String) async throws {
        guard tree.isSyncable(path) else { return }
        let base = state.files[path]
        guard let local = tree.entry(path, cache: base) else {
            guard let base else { return }
            do {
                try await remote.delete(path, ifMatch: base.isDirectory ? nil : base.hash)
                report(.up, .deleted, path, isDirectory: base.isDirectory)
            } catch let e as SyncClientError where e.status == 404 {
            } catch let e as SyncClientError where e.status == 412 {
                state.forget(path)  // changed on the server since: that change wins, the file comes back
                try await fetch(path)
                return
            }
            state.forget(path)
            return
        }
        try await pushEntry(path, local)
        if local.isDirectory, tree.entry(path)?.isDirectory == true {
            // Also what was in it before its watch existed (a directory moved or unpacked in).
            let inside = tree.scan(under: path, cache: state.files)
            for p in inside.keys.sorted() { try await pushEntry(p, inside[p]!) }
        }
    }

    private func pushEntry(_ path: String, _ local: LocalEntry) async throws {
        let base = state.files[path]
        if local.isDirectory {
            if base?.isDirectory == true { return }
            if let base {  // a file became a directory
                do { try await remote.delete(path, ifMatch: base.hash) } catch let e as SyncClientError where e.status == 404 {}
            } else if let existing = try await remote.metadata(path), !existing.isDirectory {
                try await resolveTypeClash(path, serverHasDirectory: false)  // a file there already, made elsewhere
                return
            }
            try await remote.makeDirectory(path)
            state.files[path] = local
            report(.up, .created, path, isDirectory: true)
            return
        }
        if let base, !base.isDirectory, base.hash == local.hash {
            state.files[path] = local  // same content (touched): refresh the cache key only
            return
        }
        if base?.isDirectory == true {  // a directory became a file
            do { try await remote.delete(path, ifMatch: nil) } catch let e as SyncClientError where e.status == 404 {}
            state.forget(path)
        }
        if base == nil || base?.isDirectory == true, let existing = try await remote.metadata(path) {
            // New here, but the server has something there already (made elsewhere, its
            // operation not applied here yet). If-Match cannot say "must not exist", so look first.
            if existing.isDirectory {
                try await resolveTypeClash(path, serverHasDirectory: true)
                needsFullCompare = true  // the directory's contents come with the next full compare
            } else if existing.hash == local.hash {
                state.files[path] = local
            } else {
                try await keepBoth(path)
            }
            return
        }
        do {
            try await push(path, ifMatch: base.flatMap { $0.isDirectory ? nil : $0.hash })
        } catch let e as SyncClientError where e.status == 412 {
            if try await remote.metadata(path) == nil {
                try await push(path, ifMatch: nil)  // deleted on the server meanwhile: a change wins over a delete
            } else {
                try await keepBoth(path)
            }
        }
    }

    /// A rename seen whole by the watcher goes to the server as a move (no re-upload), when the
    /// thing moved is what was synced. Returns false to fall back to a delete and an upload.
    private func pushMove(from: String, to: String) async throws -> Bool {
        guard tree.isSyncable(from), tree.isSyncable(to), let base = state.files[from], state.files[to] == nil,
              tree.entry(from) == nil, let local = tree.entry(to, cache: base), local.isDirectory == base.isDirectory,
              local.isDirectory || local.hash == base.hash else { return false }
        do {
            try await remote.move(from: from, to: to)
        } catch let e as SyncClientError where e.status != nil {
            return false
        }
        state.move(from: from, to: to)
        report(.up, .moved, from, to: to, isDirectory: local.isDirectory)
        if local.isDirectory { try await pushPath(to) }  // anything changed inside on the way
        return true
    }
}
