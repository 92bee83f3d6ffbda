/// A key for typed values handlers keep in a `Context`.
public protocol ContextKey {
    associatedtype Value: Sendable
}

/// Per-request state that flows down the chain with the request: Caddy's vars and
/// placeholder values, the route groups already taken, and typed extension values.
///
/// A value type with one copy-on-write box allocated on the first write, so passing it down
/// a chain costs at most one reference count.
public struct Context: Sendable {
    /// `@unchecked Sendable`: copy-on-write; written only while uniquely referenced (`unique()`).
    @usableFromInline final class Storage: @unchecked Sendable {
        var vars: [String: String] = [:]
        var placeholders: [String: String] = [:]
        var groups: Set<String> = []
        var tails: [Next] = []
        var scope: RequestScope?
        @usableFromInline var extensions: [ObjectIdentifier: any Sendable] = [:]

        init() {}
        init(copying o: Storage) {
            vars = o.vars; placeholders = o.placeholders; groups = o.groups; tails = o.tails; scope = o.scope; extensions = o.extensions
        }
    }

    @usableFromInline var storage: Storage?
    /// The loop running this request, when it came from a connection (loops live for the process).
    package unowned(unsafe) var loop: EventLoop?

    /// Offered by an HTTP/1.1 connection while it runs the synchronous chain (nil elsewhere).
    public internal(set) var deferral: DeferralOffer?

    /// Tells when an HTTP/1 client stops waiting for this request's answer (nil elsewhere).
    public internal(set) var departure: ClientDeparture?

    /// When the request's handling began (the loop's monotonic clock): logged errors' `duration`.
    package var started: UInt64 = 0

    /// An empty context, for calling handlers outside a server (tests); allocates nothing until written.
    public init() {}

    package init(loop: EventLoop?) { self.loop = loop }

    init(loop: EventLoop, deferral: DeferralOffer?, departure: ClientDeparture? = nil) {
        self.loop = loop
        self.deferral = deferral
        self.departure = departure
    }

    @usableFromInline mutating func unique() -> Storage {
        if let s = storage {
            if isKnownUniquelyReferenced(&storage) { return s }
            let copy = Storage(copying: s)
            storage = copy
            return copy
        }
        let s = Storage()
        storage = s
        return s
    }

    /// `{http.vars.NAME}` values (the `vars` handler, `root`).
    public var vars: [String: String] {
        get { storage?.vars ?? [:] }
        _modify { let s = unique(); yield &s.vars }
    }

    /// Other placeholder values set during the request (`http.regexp.*`, `http.error.*`, ...).
    public var placeholders: [String: String] {
        get { storage?.placeholders ?? [:] }
        _modify { let s = unique(); yield &s.placeholders }
    }

    /// Route groups that already matched (only the first route of a group runs).
    var groups: Set<String> {
        get { storage?.groups ?? [] }
        _modify { let s = unique(); yield &s.groups }
    }

    /// The `next` of each enclosing route list run through `EmbeddedRoutes` (innermost last).
    var tails: [Next] {
        get { storage?.tails ?? [] }
        _modify { let s = unique(); yield &s.tails }
    }

    /// Shared per-request state (a reference: copies of this context see the same scope).
    var scope: RequestScope? {
        get { storage?.scope }
        set { unique().scope = newValue }
    }

    /// Inlinable, so a lookup is specialised for its key where it is made (a generic call costs
    /// metadata lookups, and proxies make one per request).
    @inlinable
    public subscript<K: ContextKey>(_ key: K.Type) -> K.Value? {
        get {
            // Most requests have no storage: no dynamic cast of a nil then.
            guard let value = storage?.extensions[ObjectIdentifier(key)] else { return nil }
            return value as? K.Value
        }
        set { unique().extensions[ObjectIdentifier(key)] = newValue }
    }
}
