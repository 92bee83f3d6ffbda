/// An error adapting a Caddyfile, worded as Caddy words it (so users can search for it), with the
/// file and line where the problem is.
public struct CaddyfileError: Error, CustomStringConvertible, Equatable {
    /// The whole message, file and line included (`Caddyfile:6: unrecognized directive: ...`).
    public let message: String
    /// An error with Caddy's wording.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
