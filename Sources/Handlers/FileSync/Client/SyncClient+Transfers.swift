import QuantumCore

/// Moving file contents, and the conflict rule: the version already on the server keeps the
/// name; the local version is set aside under `ConflictNaming`'s name and uploaded there too.
extension SyncClient {
    /// Downloads `path` into place and records it as synced. If the local file changed since
    /// the last sync (it was edited while this downloaded, or never sent), it is set aside as a
    /// conflict copy first: a download never overwrites unsynced work.
    @discardableResult
    func fetch(_ path: String) async throws -> LocalEntry {
        let download = try tree.beginDownload()
        let progress = options.progress
        progress.beginTransfer(path)
        var received = 0
        do {
            _ = try await remote.download(path) { chunk in
                try download.write(chunk)
                received += chunk.count
                progress.transferred(received)
            }
        } catch {
            download.discard()
            throw error
        }
        if let now = tree.entry(path, cache: state.files[path]), !now.isDirectory,
           now.hash != state.files[path]?.hash, now.hash != download.finish() {
            do { try await setAside(path) } catch { download.discard(); throw error }
        }
        let existed = state.files[path] != nil
        let entry = try tree.place(download, at: path)
        state.files[path] = entry
        report(.down, existed ? .updated : .created, path, size: entry.size)
        return entry
    }

    /// Uploads the local file at `path` (guarded by `ifMatch`), streamed from disk, and records
    /// what the server now has. A file written to during the upload gets no cache key, so the
    /// next compare hashes it again and sends the newer version.
    func push(_ path: String, ifMatch: String?) async throws {
        guard let before = tree.entry(path), !before.isDirectory else { throw SyncClientError.local("cannot read \(path)") }
        let progress = options.progress
        progress.beginTransfer(path, size: before.size)
        let (sent, seq) = try await remote.upload(path, file: tree.absolute(path), ifMatch: ifMatch) { progress.transferred($0) }
        if let seq { uploadedAt[path] = seq }
        let existed = state.files[path] != nil
        state.files[path] = sent.hash == before.hash ? before
            : ClientState.Entry(isDirectory: false, hash: sent.hash, size: sent.size, mtimeNanos: -1)
        report(.up, existed ? .updated : .created, path, size: sent.size)
    }

    /// A file on one side and a directory on the other: a conflict like any other — the
    /// server's keeps the name, the local one is set aside (a directory with everything in it).
    func resolveTypeClash(_ path: String, serverHasDirectory: Bool) async throws {
        try await setAside(path)
        if serverHasDirectory {
            try tree.makeDirectory(path)
            if let e = tree.entry(path) { state.files[path] = e }
            report(.down, .created, path, isDirectory: true)
        } else {
            try await fetch(path)
        }
    }

    /// Both sides changed `path`: keep ours under a conflict name, take the server's.
    func keepBoth(_ path: String) async throws {
        try await setAside(path)
        do { try await fetch(path) } catch let e as SyncClientError where e.status == 404 {
            state.files[path] = nil  // deleted on the server meanwhile: the conflict copy remains
        }
    }

    /// Renames the local `path` (a file, or a directory with its contents) to a conflict name
    /// and uploads it under that name.
    func setAside(_ path: String) async throws {
        let now = SystemClock.wallSeconds()
        var attempt = 1
        var name = ConflictNaming.name(for: path, client: options.clientID, epochSeconds: now)
        while tree.entry(name) != nil || state.files[name] != nil {
            attempt += 1
            name = ConflictNaming.name(for: path, client: options.clientID, epochSeconds: now, attempt: attempt)
        }
        let isDirectory = tree.entry(path)?.isDirectory ?? false
        try tree.move(from: path, to: name)
        state.forget(path)
        conflictsSeen += 1
        options.log("sync: conflict on \(path): both changed; this client's version is kept as \(name)")
        report(.up, .conflict, path, to: name, isDirectory: isDirectory)
        if isDirectory { try await pushPath(name) } else { try await push(name, ifMatch: nil) }
        saveState()
    }
}
