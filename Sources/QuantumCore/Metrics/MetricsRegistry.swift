import Synchronization

/// Everything `/metrics` answers, process-wide as Prometheus's default registry is in Caddy:
/// the core's families (HTTP, admin, config, process) and what modules add by name (the
/// reverse proxy's upstream health, file_sync's clients).
package final class MetricsRegistry: Sendable {
    package static let shared = MetricsRegistry()

    /// Gathers a module's families on each scrape.
    package typealias Collector = @Sendable () async -> [MetricFamily]

    private let collectors = Mutex<[String: Collector]>([:])

    /// Adds (or replaces) the collector named `name`; modules call this when provisioned.
    package func register(_ name: String, _ collector: @escaping Collector) {
        collectors.withLock { $0[name] = collector }
    }

    /// Every family, samples of one name from several sources merged.
    package func gather() async -> [MetricFamily] {
        var all = await HTTPMetrics.shared.families()
        all += AdminMetrics.shared.families()
        all += ProcessMetrics.families()
        all.append(.single("quantum_websocket_connections", .gauge, help: "WebSocket connections open on this server's handlers.",
                           Double(WebSocketUpgrade.openConnections.load(ordering: .relaxed))))
        let modules = collectors.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
        for collect in modules { all += await collect() }
        var byName: [String: MetricFamily] = [:]
        for family in all {
            if byName[family.name] == nil { byName[family.name] = family } else { byName[family.name]!.samples += family.samples }
        }
        return Array(byName.values)
    }

    /// The text exposition of `gather()`.
    package func render() async -> String { PrometheusText.render(await gather()) }

    /// `/metrics`'s answer.
    package func response() async -> Response {
        Response.text(await render(), contentType: PrometheusText.contentType)
    }
}
