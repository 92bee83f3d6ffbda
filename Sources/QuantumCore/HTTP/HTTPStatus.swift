/// Reason phrases for status codes (RFC 9110 §15).
public enum HTTPStatus {
    /// The standard phrase (`404` → `Not Found`), as Go's `http.StatusText`; "" for unknown codes.
    public static func reason(_ code: Int) -> String {
        switch code {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 103: "Early Hints"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 418: "I'm a teapot"
        case 421: "Misdirected Request"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 451: "Unavailable For Legal Reasons"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}

/// An error a handler throws to produce an HTTP status (Caddy's `caddyhttp.Error`).
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status to answer with (`{http.error.status_code}`); 500 stands for errors of other types.
    public var status: Int
    /// Why, for logs and error routes (`{http.error.message}`); never sent to the client by itself.
    public var message: String
    /// Placeholders the failing handler offers to error routes (`http.reverse_proxy.*`).
    public var placeholders: [String: String]
    /// Header fields the failing handler sets on the answer (`WWW-Authenticate` on a 401), as a
    /// Caddy handler sets them on the writer before returning its error: the error answer and
    /// what error routes answer carry them.
    public var headers = HTTPFields()
    /// `message` and `placeholders` are optional: `throw HTTPError(404)` is enough.
    public init(_ status: Int, _ message: String = "", placeholders: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.placeholders = placeholders
    }
    public var description: String { message.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(message)" }
}
