import Glibc
import QuantumCore

/// What this client last agreed on with the server, kept in `DIR/.quantum-sync-client/state.json`:
/// the last operation seq it applied (to subscribe with `since`) and, per path, the hash it
/// last synced. That base is what tells "changed here" from "changed on the server": a file
/// whose local hash still equals its base was not touched locally, and the reverse.
/// Size and modification time are kept too, so unchanged files need not be hashed again.
public struct ClientState: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var isDirectory: Bool
        /// SHA-256 hex of the synced content; empty for directories.
        public var hash: String
        /// The local file's size and mtime when it was synced (a cache key for `hash`).
        public var size: Int
        public var mtimeNanos: Int64

        public init(isDirectory: Bool, hash: String, size: Int, mtimeNanos: Int64) {
            self.isDirectory = isDirectory
            self.hash = hash
            self.size = size
            self.mtimeNanos = mtimeNanos
        }
    }

    public var lastSeq = 0
    public var files: [String: Entry] = [:]

    public init() {}

    /// Reads the state file; nil when there is none (this directory was never synced).
    public static func load(_ path: String) throws -> ClientState? {
        guard access(path, F_OK) == 0 else { return nil }
        let doc: JSONValue
        do { doc = try JSONParser.parse(try FileIO.readAll(path)) } catch {
            throw SyncClientError.local("cannot read the client state \(path): \(error)")
        }
        var state = ClientState()
        state.lastSeq = doc["last_seq"]?.intValue ?? 0
        if case .object(let pairs)? = doc["files"] {
            for (path, value) in pairs {
                state.files[path] = Entry(isDirectory: value["directory"] == .bool(true), hash: value["hash"]?.stringValue ?? "",
                                          size: value["size"]?.intValue ?? -1,
                                          mtimeNanos: value["mtime_ns"]?.intValue.map(Int64.init) ?? -1)
            }
        }
        return state
    }

    /// Writes the state atomically (temporary file, fsync, rename): a crash keeps the old or the new one.
    public func save(_ path: String) throws {
        let files = self.files.keys.sorted().map { key -> (String, JSONValue) in
            let e = self.files[key]!
            var fields: [(String, JSONValue)] = [("hash", .string(e.hash)), ("size", .number(String(e.size))),
                                                 ("mtime_ns", .number(String(e.mtimeNanos)))]
            if e.isDirectory { fields.append(("directory", .bool(true))) }
            return (key, .object(fields))
        }
        let doc = JSONValue.object([("version", .number("1")), ("last_seq", .number(String(lastSeq))), ("files", .object(files))])
        try LocalTree.writeAtomically(Array(doc.serialized.utf8), to: path)
    }

    /// Renames `from` and everything under it to `to` (after a move on either side).
    mutating func move(from: String, to: String) {
        for key in Array(files.keys) where key == from || key.hasPrefix(from + "/") {
            let entry = files.removeValue(forKey: key)
            files[to + key.dropFirst(from.count)] = entry
        }
    }

    /// Forgets `path` and everything under it.
    mutating func forget(_ path: String) {
        for key in Array(files.keys) where key == path || key.hasPrefix(path + "/") { files[key] = nil }
    }
}
