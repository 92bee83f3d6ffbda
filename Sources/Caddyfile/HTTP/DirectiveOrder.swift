/// The order in which handler directives run within a site, whatever their order in the
/// Caddyfile (Caddy 2.6.2's table), with Quantum's own `file_sync` and `websocket_echo` placed
/// among the handlers that respond.
enum DirectiveOrder {
    static let standard: [String] = [
        "tracing",
        "map", "vars", "root", "skip_log",
        "header", "copy_response_headers", "request_body",
        "redir",
        "method", "rewrite", "uri", "try_files",
        "basicauth", "forward_auth", "request_header", "encode", "push", "templates",
        "invoke", "handle", "handle_path", "route",
        "abort", "error", "copy_response", "respond", "metrics", "reverse_proxy", "php_fastcgi",
        "file_sync", "websocket_echo",
        "file_server", "acme_server",
    ]

    /// Applies a global `order` option: `order DIR first|last|before OTHER|after OTHER`.
    static func apply(_ dir: String, _ position: String, _ other: String?, to order: inout [String]) throws {
        order.removeAll { $0 == dir }
        switch position {
        case "first": order.insert(dir, at: 0)
        case "last": order.append(dir)
        case "before", "after":
            guard let other, let i = order.firstIndex(of: other) else {
                throw CaddyfileError("directive '\(other ?? "")' not found")
            }
            order.insert(dir, at: position == "before" ? i : i + 1)
        default:
            throw CaddyfileError("unknown position: \(position)")
        }
    }
}
