import Synchronization

/// The admin endpoint's metrics, as Caddy names them: `caddy_admin_http_requests_total` by
/// handler, path pattern, code and method, and whether the last config load succeeded.
package final class AdminMetrics: Sendable {
    package static let shared = AdminMetrics()

    private struct Key: Hashable {
        let handler: String, path: String, code: Int, method: String
    }

    private struct State {
        var requests: [Key: UInt64] = [:]
        var lastLoadSucceeded: Bool?
        var lastSuccessSeconds: Double = 0
    }

    private let state = Mutex(State())

    /// Counts an admin request answered by the endpoint `path` (the pattern Caddy registers it
    /// under, such as `/config/`), whose handler label is `handler`.
    func count(handler: String, path: String, status: Int, method: String) {
        let key = Key(handler: handler, path: path, code: HTTPMetrics.code(status),
                      method: HTTPMetrics.methods[Int(HTTPMetrics.methodIndex(method))])
        state.withLock { $0.requests[key, default: 0] &+= 1 }
    }

    /// Records a config load (at start, `/load`, a `/config` change, a reload).
    package func loaded(succeeded: Bool) {
        let now = Double(SystemClock.wallNanos()) / 1e9
        state.withLock { s in
            s.lastLoadSucceeded = succeeded
            if succeeded { s.lastSuccessSeconds = now }
        }
    }

    func families() -> [MetricFamily] {
        let s = state.withLock { $0 }
        var requests = MetricFamily("caddy_admin_http_requests_total", .counter,
                                    help: "Counter of requests made to the Admin API's HTTP endpoints.")
        for (key, count) in s.requests {
            requests.samples.append(.init([("handler", key.handler), ("path", key.path), ("code", String(key.code)),
                                           ("method", key.method)], Double(count)))
        }
        var out = [requests]
        if let succeeded = s.lastLoadSucceeded {
            out.append(.single("caddy_config_last_reload_successful", .gauge,
                               help: "Whether the last configuration reload attempt was successful.", succeeded ? 1 : 0))
            out.append(.single("caddy_config_last_reload_success_timestamp_seconds", .gauge,
                               help: "Timestamp of the last successful configuration reload.", s.lastSuccessSeconds))
        }
        return out
    }
}
