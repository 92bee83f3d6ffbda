/// A key for typed values handlers keep in a `Context`.
public protocol ContextKey {
    associatedtype Value: Sendable
}

/// Per-request state that flows down the chain with the request: Caddy's vars and
/// placeholder values, the route groups already taken, and typed extension values.
public struct Context: Sendable {
    /// `{http.vars.NAME}` values (the `vars` handler, `root`).
    public var vars: [String: String] = [:]
    /// Other placeholder values set during the request (`http.regexp.*`, `http.error.*`, ...).
    public var placeholders: [String: String] = [:]
    /// Route groups that already matched (only the first route of a group runs).
    var groups: Set<String> = []
    /// The `next` of each enclosing route list run through `EmbeddedRoutes` (innermost last).
    var tails: [Next] = []
    private var extensions: [ObjectIdentifier: any Sendable] = [:]
    /// The loop running this request, when it came from a connection.
    public var loop: EventLoop?

    public init(loop: EventLoop? = nil) { self.loop = loop }

    public subscript<K: ContextKey>(_ key: K.Type) -> K.Value? {
        get { extensions[ObjectIdentifier(key)] as? K.Value }
        set { extensions[ObjectIdentifier(key)] = newValue }
    }
}
