import QuantumCore

/// `metrics`: serves the Prometheus metrics on any route (Caddy's `http.handlers.metrics`), the
/// same text as the admin endpoint's `/metrics`. `disable_openmetrics` is accepted; the answer
/// is always the 0.0.4 text format.
public struct MetricsHandler: HandlerModule {
    public static let moduleID = "http.handlers.metrics"

    public var disableOpenMetrics: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable { case disableOpenMetrics = "disable_openmetrics" }

    public init() {}

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        await MetricsRegistry.shared.response()
    }
}
