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
    /// Certificate file → the tag `tls CERT KEY` gave it (each file is loaded once).
    var certTags: [String: String] = [:]

    func nextGroup() -> String {
        defer { groupCounter += 1 }
        return "group\(groupCounter)"
    }
}

/// A warning about the Caddyfile, printed as Caddy prints it.
public struct CaddyfileWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : message }
}
