import QuantumCore

/// State shared by every directive while one Caddyfile is adapted: the group-name counter (so
/// names come out as Caddy numbers them), warnings, global options and the directive order.
final class AdapterState {
    var groupCounter = 0
    var warnings: [CaddyfileWarning] = []
    var options = GlobalOptions()
    var directiveOrder = DirectiveOrder.standard
    /// Free-form state directives share (e.g. `php_fastcgi` remembering a root).
    var values: [String: String] = [:]
    /// Named routes the site block being read invokes (`invoke NAME`), collected per block.
    var invoked: [String] = []
    /// Named routes (`&(name) { ... }`) by name, as the route a server's `named_routes` holds.
    var namedRoutes: [String: Route] = [:]
    /// Certificate file → the tag `tls CERT KEY` gave it (each file is loaded once).
    var certTags: [String: String] = [:]

    func nextGroup() -> String {
        defer { groupCounter += 1 }
        return "group\(groupCounter)"
    }
}

/// A warning about the Caddyfile, printed as Caddy prints it.
public struct CaddyfileWarning: Sendable, Equatable, CustomStringConvertible {
    /// The file the warning is about, as named to the adapter.
    public var file: String
    /// Its line (0 when the warning is about the whole file).
    public var line: Int
    /// What is wrong, in Caddy's words.
    public var message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : message }
}
