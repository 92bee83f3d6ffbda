import QuantumCore

/// One change the client made to either side, reported as it happens: `quantum sync` prints it
/// as a line (`↓ updated docs/a.txt (1.2 KiB)`), or as a JSON object per line with `--json`.
public struct SyncEvent: Sendable, Equatable {
    /// `down`: the server's change applied to the folder; `up`: the folder's sent to the server.
    public enum Direction: String, Sendable { case down, up }
    public enum Action: String, Sendable { case created, updated, deleted, moved, conflict }

    public var direction: Direction
    public var action: Action
    public var path: String
    /// A move's new path; for a conflict, the name this client's version was kept under.
    public var to: String?
    public var isDirectory: Bool
    /// Bytes moved, for files sent or fetched.
    public var size: Int?

    public init(_ direction: Direction, _ action: Action, _ path: String, to: String? = nil, isDirectory: Bool = false, size: Int? = nil) {
        self.direction = direction
        self.action = action
        self.path = path
        self.to = to
        self.isDirectory = isDirectory
        self.size = size
    }

    /// `↓ created photos/ (folder)`, `↑ updated notes.txt (12 B)`, `↑ moved a.txt → b.txt`,
    /// `! conflict notes.txt: this client's version kept as notes (conflict …).txt`.
    public var line: String {
        let arrow = direction == .down ? "↓" : "↑"
        switch action {
        case .conflict: return "! conflict \(path): this client's version kept as \(to ?? "?")"
        case .moved: return "\(arrow) moved \(path) → \(to ?? "?")"
        default:
            let what = isDirectory ? " (folder)" : size.map { " (\(SyncProgress.format(bytes: $0)))" } ?? ""
            return "\(arrow) \(action.rawValue) \(path)\(what)"
        }
    }

    /// `{"direction":"down","action":"updated","path":"a.txt","is_directory":false,"size":12}`.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("direction", .string(direction.rawValue)), ("action", .string(action.rawValue)),
                                              ("path", .string(path))]
        if let to { members.append(("to", .string(to))) }
        members.append(("is_directory", .bool(isDirectory)))
        if let size { members.append(("size", .number(String(size)))) }
        return .object(members)
    }
}
