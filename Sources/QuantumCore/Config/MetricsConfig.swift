/// Caddy's metrics switch: a server's `metrics` (Caddy 2.6.2's form) or `apps.http.metrics`
/// (later Caddy's, for every server). Present turns the `caddy_http_*` metrics on.
package struct MetricsConfig: Decodable, Sendable {
    enum CodingKeys: String, CodingKey, CaseIterable { case perHost = "per_host" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if try c.decodeIfPresent(Bool.self, forKey: .perHost) == true {
            throw ConfigError(codingPath: decoder.codingPath + [CodingKeys.perHost],
                              "per-host metrics (a host label) are not supported; remove per_host")
        }
    }
}
