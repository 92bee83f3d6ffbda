import QuantumCore

/// Why a sync step failed. Server answers keep their status, so callers can tell a conflict
/// (412), a path that is gone (404) or an occupied target (409) from a broken connection.
public enum SyncClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidServerURL(String)
    /// The server answered with an error status; `message` is its body (trimmed).
    case http(status: Int, message: String)
    /// The server's answer did not have the expected shape.
    case badResponse(String)
    /// A local file operation failed.
    case local(String)

    public var description: String {
        switch self {
        case .invalidServerURL(let why): "invalid server URL \(why)"
        case .http(let status, let message): message.isEmpty ? "server answered \(status)" : "server answered \(status): \(message)"
        case .badResponse(let why): "unexpected answer from the server: \(why)"
        case .local(let why): why
        }
    }

    /// The HTTP status, when the server answered.
    public var status: Int? { if case .http(let s, _) = self { s } else { nil } }
}
