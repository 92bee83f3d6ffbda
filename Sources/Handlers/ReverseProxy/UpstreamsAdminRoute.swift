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
