import QuantumCore

/// `{http.reverse_proxy.*}` values, for the proxy's own header ops and for error routes.
enum ProxyPlaceholders {
    static func upstream(_ u: Upstream) -> [String: String] {
        let split = HostPort.split(u.hostPort)
        return [
            "http.reverse_proxy.upstream.address": u.dial,
            "http.reverse_proxy.upstream.hostport": u.hostPort,
            "http.reverse_proxy.upstream.host": split.host,
            "http.reverse_proxy.upstream.port": split.port,
            "http.reverse_proxy.upstream.requests": String(u.activeRequests),
            "http.reverse_proxy.upstream.max_requests": String(u.maxRequests),
            "http.reverse_proxy.upstream.fails": String(u.state.failCount),
        ]
    }

    static func response(status: Int, headers: HTTPFields, latencyNanos: UInt64) -> [String: String] {
        var values = [
            "http.reverse_proxy.status_code": String(status),
            "http.reverse_proxy.status_text": HTTPStatus.reason(status),
            "http.reverse_proxy.upstream.latency": "\(Double(latencyNanos) / 1e9)s",
            "http.reverse_proxy.upstream.latency_ms": String(Double(latencyNanos) / 1e6),
        ]
        // Canonical names and repeated fields joined with commas, as Caddy sets them from Go's
        // header map: `{http.reverse_proxy.header.X-User}` finds `x-user` from any upstream.
        for field in headers {
            let key = "http.reverse_proxy.header.\(HTTPFields.canonicalName(field.name))"
            if let existing = values[key] { values[key] = existing + "," + field.value } else { values[key] = field.value }
        }
        return values
    }
}
