/// An admin API failure as Caddy reports it: an HTTP status and `{"error":"..."}`.
package struct AdminError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    /// The answer's body: Caddy's error object, a line of JSON.
    var body: String { "{\"error\":" + GoJSON.quote(message) + "}\n" }
}
