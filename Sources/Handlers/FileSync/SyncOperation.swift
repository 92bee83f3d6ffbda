import QuantumCore

/// One change to the synced tree, as the protocol names it.
public enum SyncOperation: Sendable, Equatable {
    case create(FileMetadata)
    case update(FileMetadata)
    case delete(path: String)
    case move(from: String, to: String)

    /// `{"Create":{"metadata":{...}}}`, `{"Delete":{"path":"a"}}`, `{"Move":{"from":"a","to":"b"}}`.
    public var json: JSONValue {
        switch self {
        case .create(let m): .object([("Create", .object([("metadata", m.json)]))])
        case .update(let m): .object([("Update", .object([("metadata", m.json)]))])
        case .delete(let path): .object([("Delete", .object([("path", .string(path))]))])
        case .move(let from, let to): .object([("Move", .object([("from", .string(from)), ("to", .string(to))]))])
        }
    }

    public init?(json: JSONValue) {
        if let body = json["Create"], let m = body["metadata"].flatMap(FileMetadata.init(json:)) { self = .create(m) }
        else if let body = json["Update"], let m = body["metadata"].flatMap(FileMetadata.init(json:)) { self = .update(m) }
        else if let path = json["Delete"]?["path"]?.stringValue { self = .delete(path: path) }
        else if let body = json["Move"], let from = body["from"]?.stringValue, let to = body["to"]?.stringValue { self = .move(from: from, to: to) }
        else { return nil }
    }

    /// The paths this operation touches (for `paths` subscriptions).
    public var paths: [String] {
        switch self {
        case .create(let m), .update(let m): [m.path]
        case .delete(let path): [path]
        case .move(let from, let to): [from, to]
        }
    }
}

/// An operation with its place in the log and the client that caused it (nil: the disk).
public struct LoggedOperation: Sendable, Equatable {
    public var seq: Int
    public var operation: SyncOperation
    public var sourceClient: String?

    /// The broadcast form: `{"type":"FileOperation","seq":N,"operation":{...},"source_client":"..."}`.
    public var json: JSONValue {
        .object([("type", .string("FileOperation")), ("seq", .number(String(seq))), ("operation", operation.json),
                 ("source_client", sourceClient.map(JSONValue.string) ?? .null)])
    }

    public init(seq: Int, operation: SyncOperation, sourceClient: String?) {
        self.seq = seq
        self.operation = operation
        self.sourceClient = sourceClient
    }

    public init?(json: JSONValue) {
        guard let seq = json["seq"]?.intValue, let op = json["operation"].flatMap(SyncOperation.init(json:)) else { return nil }
        self.seq = seq
        operation = op
        sourceClient = json["source_client"]?.stringValue
    }
}
