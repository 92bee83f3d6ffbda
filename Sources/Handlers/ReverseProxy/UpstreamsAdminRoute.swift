import QuantumCore

extension ReverseProxy {
    /// `GET /reverse_proxy/upstreams` on the admin API, as Caddy's `admin.api.reverse_proxy`:
    /// each upstream the loaded configs use, with its requests in flight and its passive failures.
    package static let upstreamsAdminRoute = AdminRoute(path: "/reverse_proxy/upstreams") { request in
        guard request.method == "GET" else { return AdminRoute.failure(405, "method not allowed") }
        let items = UpstreamState.inUse.map { state in
            "{\"address\":\(AdminRoute.quote(state.address)),\"num_requests\":\(state.requestCount),\"fails\":\(state.failCount)}"
        }
        return AdminRoute.json("[" + items.joined(separator: ",") + "]")
    }
}

extension UpstreamState {
    /// `caddy_reverse_proxy_upstreams_healthy`: 1 for each upstream in use that the active checks
    /// find healthy and that has no passive failure in its window, else 0 (Caddy 2.6.2 sets 0
    /// on any recorded failure).
    static func metrics() -> [MetricFamily] {
        let samples = inUse.map { state in
            MetricFamily.Sample([("upstream", state.address)], state.isHealthyByActiveChecks && state.failCount == 0 ? 1 : 0)
        }
        return [MetricFamily("caddy_reverse_proxy_upstreams_healthy", .gauge, help: "Health status of reverse proxy upstreams.",
                             samples: samples)]
    }
}
