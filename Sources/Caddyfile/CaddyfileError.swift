/// An error adapting a Caddyfile, worded as Caddy words it (so users can search for it), with the
/// file and line where the problem is.
public struct CaddyfileError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
