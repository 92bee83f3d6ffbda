import QuantumCore

/// One route of the HTTP app being built: Caddy's `caddyhttp.Route`.
struct Route: Equatable {
    var group: String?
    /// Matcher sets (each an object of matcher name → config); any one matching is enough.
    var match: [JSONValue] = []
    var handle: [JSONValue] = []
    var terminal = false

    var json: JSONValue {
        .object([
            ("group", group.map(JSONValue.string)),
            ("match", match.isEmpty ? nil : .array(match)),
            ("handle", handle.isEmpty ? nil : .array(handle)),
            ("terminal", terminal ? .bool(true) : nil),
        ])
    }

    static func == (a: Route, b: Route) -> Bool {
        a.group == b.group && a.terminal == b.terminal && a.match.map(\.canonical) == b.match.map(\.canonical)
            && a.handle.map(\.canonical) == b.handle.map(\.canonical)
    }
}

/// A `subroute` handler's content: routes and optional error routes.
struct Subroute {
    var routes: [Route] = []
    var errors: [Route]?

    var handlerJSON: JSONValue {
        .object([
            ("handler", .string("subroute")),
            ("routes", routes.isEmpty ? nil : .array(routes.map(\.json))),
            ("errors", errors.map { .object([("routes", .array($0.map(\.json)))]) }),
        ])
    }
}

/// What a directive yields: a value of some class (a route, a TLS setting, a log...) that the
/// adapter collects per site and assembles into the config, as Caddy's `ConfigValue`.
struct ConfigValue {
    enum Value {
        case route(Route)
        /// Routes to keep together and in order, spliced into the enclosing route list.
        case routes([Route])
        case json(JSONValue)
        case strings([String])
        case log(NamedLog)
        case flag
    }

    var cls: String
    var value: Value
    /// The directive that produced it (set by the adapter; `handle_path` counts as `handle`).
    var directive = ""

    init(_ cls: String, _ value: Value) {
        self.cls = cls
        self.value = value
    }

    var json: JSONValue? {
        if case .json(let j) = value { return j }
        return nil
    }
}

/// A logger a `log` directive or option defines, with the hosts it is for.
struct NamedLog {
    var name: String
    var log: JSONValue
    var hostnames: [String] = []
}
