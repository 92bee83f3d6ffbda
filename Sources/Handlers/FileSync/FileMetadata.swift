import QuantumCore

/// What the API and the WebSocket say about one file or directory.
public struct FileMetadata: Sendable, Equatable {
    public var path: String
    public var size: Int
    /// SHA-256, lowercase hex; empty for directories.
    public var hash: String
    /// Modification time, RFC 3339 UTC (`2026-11-27T02:30:00Z`).
    public var modified: String
    public var isDirectory: Bool

    public init(path: String, size: Int, hash: String, modified: String, isDirectory: Bool) {
        self.path = path
        self.size = size
        self.hash = hash
        self.modified = modified
        self.isDirectory = isDirectory
    }

    public var json: JSONValue {
        .object([("path", .string(path)), ("size", .number(String(size))), ("hash", .string(hash)),
                 ("modified", .string(modified)), ("is_directory", .bool(isDirectory))])
    }

    public init?(json: JSONValue) {
        guard case .string(let path)? = json["path"] else { return nil }
        self.path = path
        size = json["size"].flatMap { if case .number(let n) = $0 { Int(n) } else { nil } } ?? 0
        hash = json["hash"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
        modified = json["modified"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
        isDirectory = json["is_directory"] == .bool(true)
    }
}

/// Reading fields out of protocol messages.
extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var intValue: Int? { if case .number(let n) = self { Int(n) ?? Double(n).map { Int($0) } } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
}
