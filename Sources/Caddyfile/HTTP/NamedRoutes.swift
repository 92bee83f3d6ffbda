import QuantumCore

/// Named routes (current Caddy's `&(name) { ... }` blocks, run with `invoke name`): each becomes a
/// route in the `named_routes` of the servers that invoke it, with the routes it invokes in turn.
enum NamedRoutes {
    static func extract(_ blocks: [ServerBlock], into state: AdapterState) throws {
        guard !blocks.isEmpty else { return }
        // Their own group counter and state, as Caddy parses them apart from the sites.
        let own = AdapterState()
        own.options = state.options
        own.directiveOrder = state.directiveOrder
        for var block in blocks {
            guard var segment = block.segments.first, let name = segment.first?.text else { continue }
            for i in segment.indices { segment[i].text = Shorthands.expand(segment[i].text) }
            block.segments = [segment]
            var helper = Helper(d: Dispenser(segment), state: own, matcherDefs: [:], parentBlock: block)
            let subroute = try helper.parseSegmentAsSubroute()
            // One unmatched route is used as is. (Current Caddy keeps only its first handler there,
            // dropping the rest; Quantum keeps them all: a deliberate difference.)
            if subroute.routes.count == 1, subroute.routes[0].match.isEmpty {
                state.namedRoutes[name] = Route(handle: subroute.routes[0].handle)
            } else {
                state.namedRoutes[name] = Route(handle: [subroute.handlerJSON])
            }
        }
        state.warnings += own.warnings
    }

    /// `name`'s route and those it invokes, directly or not.
    static func closure(of name: String, state: AdapterState) throws -> [(String, Route)] {
        var out: [(String, Route)] = []
        var pending = [name]
        while let next = pending.popLast() {
            if out.contains(where: { $0.0 == next }) { continue }
            guard let route = state.namedRoutes[next] else {
                throw CaddyfileError("cannot invoke named route '\(next)', which was not defined")
            }
            out.append((next, route))
            pending += invokedNames(in: .array(route.handle))
        }
        return out
    }

    private static func invokedNames(in value: JSONValue) -> [String] {
        switch value {
        case .array(let items): return items.flatMap(invokedNames)
        case .object(let members):
            var names = members.flatMap { invokedNames(in: $0.1) }
            if value["handler"]?.stringValue == "invoke", let n = value["name"]?.stringValue { names.append(n) }
            return names
        default: return []
        }
    }
}
