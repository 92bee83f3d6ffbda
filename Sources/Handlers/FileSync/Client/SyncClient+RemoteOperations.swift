import QuantumCore

/// Applying the server's operations (realtime broadcasts and `since` catch-up) to the folder.
///
/// Each is checked against the state first: a file changed here since the last sync is never
/// overwritten or deleted by a server operation — it becomes a conflict copy, or is uploaded
/// again. Operations this client made itself come back with its id and only advance `lastSeq`.
extension SyncClient {
    func applyRemote(_ op: LoggedOperation) async {
        guard op.seq > state.lastSeq else { return }  // already seen (catch-up and live overlap)
        // This client uploaded the path (or something under it) after this operation was logged:
        // applying it would undo that. A folder's delete or move with such a file inside is
        // left to a full compare, which sorts the rest of the folder out.
        let newer = uploadedAt.filter { $0.value > op.seq }.keys
        let superseded = op.operation.paths.contains { path in newer.contains { $0 == path || $0.hasPrefix(path + "/") } }
        if superseded && op.operation.paths.contains(where: { path in newer.contains { $0.hasPrefix(path + "/") } }) { needsFullCompare = true }
        if op.sourceClient != options.clientID && !superseded {
            do {
                try await applyRemoteOperation(op.operation)
            } catch let e as SyncClientError where e.status == 404 {
                // Gone again on the server: a later operation says what happened to it.
            } catch {
                options.log("sync: cannot apply operation \(op.seq): \(error); will compare everything")
                needsFullCompare = true
            }
        }
        state.lastSeq = op.seq
        uploadedAt = uploadedAt.filter { $0.value > op.seq }
        saveState()
    }

    private func applyRemoteOperation(_ operation: SyncOperation) async throws {
        switch operation {
        case .create(let m), .update(let m):
            guard tree.isSyncable(m.path) else { return }
            let base = state.files[m.path]
            let local = tree.entry(m.path, cache: base)
            if m.isDirectory {
                if local?.isDirectory == false { try await resolveTypeClash(m.path, serverHasDirectory: true); return }
                try tree.makeDirectory(m.path)
                if let e = tree.entry(m.path) { state.files[m.path] = e }
                if local == nil { report(.down, .created, m.path, isDirectory: true) }
                return
            }
            if let local, local.isDirectory { try await resolveTypeClash(m.path, serverHasDirectory: false); return }
            if let local, local.hash == m.hash { state.files[m.path] = local; return }
            // `fetch` sets a local change aside before it replaces the file.
            try await fetch(m.path)
        case .delete(let path):
            guard tree.isSyncable(path) else { return }
            try await applyRemoteDelete(path)
        case .move(let from, let to):
            guard tree.isSyncable(from), tree.isSyncable(to) else { return }
            let base = state.files[from]
            let local = tree.entry(from, cache: base)
            if let local, let base, tree.entry(to) == nil, local.isDirectory == base.isDirectory, local.isDirectory || local.hash == base.hash {
                try tree.move(from: from, to: to)
                state.move(from: from, to: to)
                report(.down, .moved, from, to: to, isDirectory: local.isDirectory)
            } else if local == nil, tree.entry(to) != nil, state.files[to] != nil {
                return  // already so here
            } else {
                // Changed here, or something is in the way: let the full compare sort it out, keeping everything.
                needsFullCompare = true
            }
        }
    }

    /// The server deleted `path`: delete it here too, except what changed here since the last
    /// sync — that is uploaded again (a change wins over a delete).
    private func applyRemoteDelete(_ path: String) async throws {
        guard let local = tree.entry(path, cache: state.files[path]) else { state.forget(path); return }
        if !local.isDirectory {
            if local.hash == state.files[path]?.hash {
                try tree.remove(path)
                state.forget(path)
                report(.down, .deleted, path)
            } else {
                state.forget(path)
                try await push(path, ifMatch: nil)
            }
            return
        }
        let inside = tree.scan(under: path, cache: state.files)
        let changed = inside.filter { !$0.value.isDirectory && $0.value.hash != state.files[$0.key]?.hash }.keys.sorted()
        if changed.isEmpty {
            try tree.remove(path)
            state.forget(path)
            report(.down, .deleted, path, isDirectory: true)
            return
        }
        for (p, e) in inside where !e.isDirectory && !changed.contains(p) { try tree.remove(p) }
        state.forget(path)
        options.log("sync: \(path) was deleted on the server; keeping \(changed.count) file(s) changed here")
        for p in changed { try await push(p, ifMatch: nil) }
    }
}
