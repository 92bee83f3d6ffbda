/// Why an HTTP client exchange failed. The reverse proxy maps these to 502 and 504.
package enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection could not be made (refused, unreachable, unresolvable).
    case connectFailed(String)
    case connectTimeout
    case responseHeaderTimeout
    /// No bytes from the server for `read_timeout`, or a write stuck for `write_timeout`.
    case ioTimeout
    /// The server closed or reset the connection before the response ended.
    case connectionClosed
    case malformedResponse(String)
    /// A reused keep-alive connection turned out closed before the request reached the server:
    /// safe to send again on a new connection.
    case staleConnection
    /// The client the exchange was for went away: the exchange was abandoned and its
    /// connection closed (nothing more is owed to the upstream).
    case cancelled

    public var isTimeout: Bool {
        switch self {
        case .connectTimeout, .responseHeaderTimeout, .ioTimeout: true
        default: false
        }
    }

    /// The request never reached an upstream (retrying it elsewhere is always safe).
    public var isDialError: Bool {
        switch self {
        case .connectFailed, .connectTimeout: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .connectFailed(let why): "connect failed: \(why)"
        case .connectTimeout: "connect timed out"
        case .responseHeaderTimeout: "timed out waiting for the response head"
        case .ioTimeout: "I/O timed out"
        case .connectionClosed: "connection closed before the response ended"
        case .malformedResponse(let why): "malformed response: \(why)"
        case .staleConnection: "keep-alive connection closed by the server"
        case .cancelled: "the client went away"
        }
    }
}
