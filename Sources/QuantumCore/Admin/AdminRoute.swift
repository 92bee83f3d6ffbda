/// An endpoint a module adds to the admin API, as Caddy's `admin.api.*` modules do (the reverse
/// proxy's `/reverse_proxy/upstreams`): it answers `path` and the paths below it. Registered
/// with `ModuleRegistry.register(adminRoute:)`.
package struct AdminRoute: Sendable {
    public let path: String
    public let handle: @Sendable (Request) async throws -> Response

    public init(path: String, handle: @escaping @Sendable (Request) async throws -> Response) {
        self.path = path
        self.handle = handle
    }

    /// An answer of JSON text (Caddy's encoder adds the newline).
    public static func json(_ text: String) -> Response { Response.text(text + "\n", contentType: "application/json") }

    /// A failure as the admin API reports one (`{"error":"..."}`).
    public static func failure(_ status: Int, _ message: String) -> Response { AdminAPI.failure(AdminError(status, message)) }

    /// A JSON string as Caddy's encoder writes it.
    public static func quote(_ text: String) -> String { GoJSON.quote(text) }
}

extension ModuleRegistry {
    /// Adds an admin API endpoint (see `AdminRoute`).
    package mutating func register(adminRoute route: AdminRoute) { adminRoutes.append(route) }
}
