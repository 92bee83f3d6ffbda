/// A server's `named_routes`: routes defined once and run wherever an `invoke` handler names
/// them (Caddy 2.7's named routes, what the Caddyfile's `&(name)` blocks become).
/// `@unchecked Sendable`: filled while the server's config decodes, only read afterwards.
public final class NamedRoutes: @unchecked Sendable {
    private var routes: [String: EmbeddedRoutes] = [:]
    /// The names invoked while decoding, with where, to refuse an undefined one at load.
    private var invoked: [(name: String, path: [any CodingKey])] = []

    /// A closed table takes no names: there is no server whose routes these are.
    let closed: Bool

    init(closed: Bool = false) { self.closed = closed }

    /// The route called `name`, as a route list that continues into the invoker's `next`.
    public subscript(name: String) -> EmbeddedRoutes? { routes[name] }

    /// Notes that the handler decoding at `path` will invoke `name`.
    public func expect(_ name: String, at path: [any CodingKey]) throws {
        if closed { throw ConfigError(codingPath: path, "invoke can only run named routes from a server's own routes") }
        invoked.append((name, path))
    }

    func define(_ name: String, _ route: Route) { routes[name] = EmbeddedRoutes(routes: RouteList([route])) }

    func checkInvokedNamesExist() throws {
        for (name, path) in invoked where routes[name] == nil {
            throw ConfigError(codingPath: path, "cannot invoke named route \"\(name)\", which is not defined in this server's named_routes")
        }
    }
}

extension Decoder {
    /// The named routes of the server whose config is decoding (for `invoke`).
    public var namedRoutes: NamedRoutes {
        get throws { try provisionContext.shared("http.named_routes.current") { NamedRouteScope() }.current }
    }
}

/// Which server's named routes are in scope while a config decodes.
final class NamedRouteScope: @unchecked Sendable {
    var current = NamedRoutes()
}
