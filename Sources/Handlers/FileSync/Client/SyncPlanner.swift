/// One step of a full compare.
public enum SyncAction: Sendable, Equatable {
    /// The server's file is new or changed there: fetch it.
    case download(String)
    /// The local file is new or changed here: send it (`ifMatch`: the server version it replaces).
    case upload(String, ifMatch: String?)
    /// Both sides changed since the last sync: keep the local version under a conflict name on
    /// both sides, and take the server's version under the original name.
    case conflict(String)
    case deleteLocal(String)
    case deleteRemote(String, ifMatch: String?)
    case makeLocalDirectory(String)
    case makeRemoteDirectory(String)
    /// Both sides agree: remember it as synced.
    case remember(String)
    /// Gone on both sides: forget it.
    case forget(String)
    /// A file on one side and a directory on the other: a conflict — the server's keeps the
    /// name, the local one is set aside under a conflict name.
    case typeClash(String)

    public var path: String {
        switch self {
        case .download(let p), .upload(let p, _), .conflict(let p), .deleteLocal(let p), .deleteRemote(let p, _),
             .makeLocalDirectory(let p), .makeRemoteDirectory(let p), .remember(let p), .forget(let p), .typeClash(let p): p
        }
    }
}

/// The three-way compare behind a full sync: for every path, the local version, the server's,
/// and the base (what both had at the last sync, from `ClientState`).
///
/// - Same on both sides: nothing to move.
/// - Only one side differs from the base: that side's change wins (a copy, or a delete).
/// - Both differ (or both created it, differently): a conflict — nothing is lost.
/// - A delete against a change on the other side: the change wins (the file comes back).
/// - A directory deleted on one side is deleted on the other only when nothing under it
///   changed there; otherwise it is kept and its changed contents sync.
///
/// Pure, so every case can be tested without a server.
public enum SyncPlanner {
    public static func plan(local: [String: LocalEntry], remote: [String: FileMetadata], base: [String: ClientState.Entry]) -> [SyncAction] {
        let paths = Set(local.keys).union(remote.keys).union(base.keys).sorted()
        var actions: [SyncAction] = []
        for p in paths {
            actions.append(decide(local[p], remote[p], base[p], path: p))
        }
        return collapseDirectoryDeletes(actions, base: base)
    }

    static func decide(_ l: LocalEntry?, _ r: FileMetadata?, _ b: ClientState.Entry?, path p: String) -> SyncAction {
        switch (l, r) {
        case (nil, nil):
            return .forget(p)
        case (let l?, let r?):
            if l.isDirectory != r.isDirectory { return .typeClash(p) }
            if l.isDirectory || l.hash == r.hash { return .remember(p) }
            guard let b, !b.isDirectory else { return .conflict(p) }
            if b.hash == l.hash { return .download(p) }
            if b.hash == r.hash { return .upload(p, ifMatch: r.hash) }
            return .conflict(p)
        case (let l?, nil):
            guard let b, b.isDirectory == l.isDirectory else { return l.isDirectory ? .makeRemoteDirectory(p) : .upload(p, ifMatch: nil) }
            // It was synced and the server no longer has it: deleted there, unless changed here since.
            if l.isDirectory || b.hash == l.hash { return .deleteLocal(p) }
            return .upload(p, ifMatch: nil)
        case (nil, let r?):
            guard let b, b.isDirectory == r.isDirectory else { return r.isDirectory ? .makeLocalDirectory(p) : .download(p) }
            if r.isDirectory { return .deleteRemote(p, ifMatch: nil) }
            if b.hash == r.hash { return .deleteRemote(p, ifMatch: r.hash) }
            return .download(p)
        }
    }

    /// A directory delete covers what is under it — unless something under it is kept, in which
    /// case the directory is kept (re-created on the side that deleted it).
    static func collapseDirectoryDeletes(_ actions: [SyncAction], base: [String: ClientState.Entry]) -> [SyncAction] {
        var out: [SyncAction] = []
        var deletedDirectories: [(path: String, local: Bool)] = []
        for (i, action) in actions.enumerated() {
            let p = action.path
            if let covering = deletedDirectories.last(where: { p.hasPrefix($0.path + "/") }) {
                // Inside a directory already being deleted on the same side: covered.
                if case .deleteLocal = action, covering.local { continue }
                if case .deleteRemote = action, !covering.local { continue }
                if case .forget = action { out.append(action); continue }
            }
            switch action {
            case .deleteLocal(let dir) where base[dir]?.isDirectory == true,
                 .deleteRemote(let dir, nil) where base[dir]?.isDirectory == true:
                let local: Bool
                if case .deleteLocal = action { local = true } else { local = false }
                // Not `prefix(while:)`: "dir a" sorts between "dir" and "dir/x".
                let keeps = actions[(i + 1)...].filter { $0.path.hasPrefix(dir + "/") }.contains { a in
                    switch a {
                    case .deleteLocal, .deleteRemote, .forget, .remember: false
                    default: true
                    }
                }
                if keeps {
                    out.append(local ? .makeRemoteDirectory(dir) : .makeLocalDirectory(dir))
                } else {
                    deletedDirectories.append((dir, local))
                    out.append(action)
                }
            default:
                out.append(action)
            }
        }
        return out
    }
}
