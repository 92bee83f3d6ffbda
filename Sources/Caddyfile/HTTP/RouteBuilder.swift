import QuantumCore

/// Turns the routes directives produced into a route list the way Caddy does: sorted by the
/// directive order, mutually exclusive directives grouped, adjacent equal routes merged.
enum RouteBuilder {
    static func buildSubroute(_ input: [ConfigValue], state: AdapterState, sort needsSorting: Bool) throws -> Subroute {
        var values = input
        if needsSorting {
            for v in values where !state.directiveOrder.contains(v.directive) {
                throw CaddyfileError("directive '\(v.directive)' is not an ordered HTTP handler, so it cannot be used here")
            }
            sortRoutes(&values, order: state.directiveOrder)
        }
        // rewrite, handle and root: only the first match of each runs, so each kind forms a group
        // (rewrite always, so a rewrite is never merged into a neighbouring route).
        var groupNames: [String: String] = [:]
        for dir in ["handle", "rewrite", "root"] {
            let count = values.filter { $0.directive == dir }.count
            if count > 1 || dir == "rewrite" { groupNames[dir] = state.nextGroup() }
        }
        var subroute = Subroute()
        for v in values {
            switch v.value {
            case .routes(let routes):
                subroute.routes += routes
            case .route(var route):
                if let name = groupNames[v.directive] { route.group = name } else if ["handle", "rewrite", "root"].contains(v.directive) { route.group = nil }
                subroute.routes.append(route)
            default:
                break
            }
        }
        subroute.routes = consolidate(subroute.routes)
        return subroute
    }

    /// Merges each route into the one before it when their matchers, group and terminal agree.
    static func consolidate(_ input: [Route]) -> [Route] {
        var routes = input
        var i = 0
        while i < routes.count - 1 {
            let a = routes[i], b = routes[i + 1]
            if a.match.map(\.canonical) == b.match.map(\.canonical) && a.terminal == b.terminal && a.group == b.group {
                routes[i].handle += b.handle
                routes.remove(at: i + 1)
            } else {
                i += 1
            }
        }
        return routes
    }

    /// Stable sort by directive order; within one directive, the longer single path first
    /// (for `vars`, the reverse, so the most specific value is set last).
    static func sortRoutes(_ values: inout [ConfigValue], order: [String]) {
        var position: [String: Int] = [:]
        for (i, dir) in order.enumerated() { position[dir] = i }
        let indexed = values.enumerated().map { ($0.offset, $0.element) }
        let sorted = indexed.sorted { x, y in
            let (i, a) = x, (j, b) = y
            if a.directive != b.directive {
                let pa = position[a.directive] ?? 0, pb = position[b.directive] ?? 0
                return pa != pb ? pa < pb : i < j
            }
            guard case .route(let ra) = a.value, case .route(let rb) = b.value else { return i < j }
            let la = singlePathLength(ra), lb = singlePathLength(rb)
            let before: Bool, after: Bool
            if a.directive == "vars" {
                if la > 0 && lb > 0 { before = la < lb; after = lb < la } else {
                    before = ra.match.isEmpty && !rb.match.isEmpty
                    after = rb.match.isEmpty && !ra.match.isEmpty
                }
            } else {
                if la > 0 && lb > 0 { before = la > lb; after = lb > la } else {
                    before = !ra.match.isEmpty && rb.match.isEmpty
                    after = !rb.match.isEmpty && ra.match.isEmpty
                }
            }
            if before { return true }
            if after { return false }
            return i < j
        }
        values = sorted.map(\.1)
    }

    private static func singlePathLength(_ route: Route) -> Int {
        guard route.match.count == 1, let paths = route.match[0]["path"]?.arrayValues, paths.count == 1 else { return 0 }
        return paths[0].stringValue?.utf8.count ?? 0
    }
}
