import Synchronization

/// Caddy's `caddy_http_*` metrics for servers with metrics enabled: counted per loop by
/// `InstrumentedHandler` (each handler of a server's top-level routes, as Caddy 2.6.2 wraps
/// them) and merged when scraped.
package final class HTTPMetrics: Sendable {
    /// The process's HTTP metrics (Prometheus's registry is process-wide, as Caddy's).
    package static let shared = HTTPMetrics()

    private struct State {
        /// (server, handler) label pairs by series number; a series is never removed, as a
        /// Prometheus counter vector keeps its children.
        var series: [(server: String, handler: String)] = []
        var numbers: [String: Int] = [:]
        var shards: [HTTPMetricsShard] = []
    }

    private let state = Mutex(State())
    /// Counts made off every loop (handlers called outside a server, in tests).
    private let offLoop = Mutex(HTTPMetricsShard(loop: nil))

    /// The series number of a server's handler, made on first use.
    package func series(server: String, handler: String) -> Int {
        state.withLock { s in
            let key = server + "\u{0}" + handler
            if let n = s.numbers[key] { return n }
            s.series.append((server, handler))
            s.numbers[key] = s.series.count - 1
            return s.series.count - 1
        }
    }

    /// Runs `body` with the shard of the calling thread's loop, or with the locked off-loop one.
    @inline(__always)
    func withShard<T>(_ loop: EventLoop?, _ body: (HTTPMetricsShard) -> T) -> T {
        if let loop, loop.inEventLoop {
            if let shard = loop.metricsShard { return body(shard) }
            let shard = HTTPMetricsShard(loop: loop)
            loop.metricsShard = shard
            state.withLock { $0.shards.append(shard) }
            return body(shard)
        }
        return offLoop.withLock { body($0) }
    }

    // MARK: - Scrape

    /// Every shard's counts added up, by series.
    private func merged() async -> [Int: HandlerCounts.Snapshot] {
        let shards = state.withLock { $0.shards }
        var total = offLoop.withLock { $0.snapshot() }
        for shard in shards {
            let part: [Int: HandlerCounts.Snapshot]
            // A stopped loop runs submitted work on the caller (see `EventLoop.execute`).
            if let loop = shard.loop { part = await loop.submit { shard.snapshot() } } else { part = shard.snapshot() }
            for (series, counts) in part {
                if total[series] == nil { total[series] = counts } else { total[series]!.add(counts) }
            }
        }
        return total
    }

    /// Caddy's `caddy_http_*` families.
    package func families() async -> [MetricFamily] {
        let counts = await merged()
        let names = state.withLock { $0.series }
        var requests = MetricFamily("caddy_http_requests_total", .counter, help: "Counter of HTTP(S) requests made.")
        var errors = MetricFamily("caddy_http_request_errors_total", .counter, help: "Number of requests resulting in middleware errors.")
        var inFlight = MetricFamily("caddy_http_requests_in_flight", .gauge, help: "Number of requests currently handled by this server.")
        var requestDuration = MetricFamily("caddy_http_request_duration_seconds", .histogram,
                                           help: "Histogram of round-trip request durations.", bounds: Histogram.durationBounds)
        var responseDuration = MetricFamily("caddy_http_response_duration_seconds", .histogram,
                                            help: "Histogram of times to first byte in response bodies.", bounds: Histogram.durationBounds)
        var requestSize = MetricFamily("caddy_http_request_size_bytes", .histogram,
                                       help: "Total size of the request. Includes body", bounds: Histogram.sizeBounds)
        var responseSize = MetricFamily("caddy_http_response_size_bytes", .histogram,
                                        help: "Size of the returned response.", bounds: Histogram.sizeBounds)
        for (series, c) in counts {
            let labels = [("server", names[series].server), ("handler", names[series].handler)]
            // Go's counter vector has a child once it was touched: in-flight is touched on entry.
            inFlight.samples.append(.init(labels, Double(c.inFlight)))
            if c.requests > 0 { requests.samples.append(.init(labels, Double(c.requests))) }
            if c.errors > 0 { errors.samples.append(.init(labels, Double(c.errors))) }
            for o in c.outcomes {
                let full = labels + [("code", String(o.code)), ("method", Self.methods[Int(o.method)])]
                requestDuration.samples.append(.init(full, histogram: o.requestDuration))
                if o.responseDuration.count > 0 { responseDuration.samples.append(.init(full, histogram: o.responseDuration)) }
                requestSize.samples.append(.init(full, histogram: o.requestSize))
                responseSize.samples.append(.init(full, histogram: o.responseSize))
            }
        }
        return [requests, errors, inFlight, requestDuration, responseDuration, requestSize, responseSize]
    }

    // MARK: - Labels

    /// Caddy's method label values; anything else is `OTHER` (bounded label values).
    static let methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER"]

    /// The label index of `method` (Caddy also maps the lower-case spellings).
    @inline(__always)
    static func methodIndex(_ method: String) -> UInt8 {
        switch method {
        case "GET", "get": 0
        case "HEAD", "head": 1
        case "PUT", "put": 2
        case "POST", "post": 3
        case "DELETE", "delete": 4
        case "CONNECT", "connect": 5
        case "OPTIONS", "options": 6
        case "TRACE", "trace": 7
        case "PATCH", "patch": 8
        default: 9
        }
    }

    /// Caddy's code label: a status never written (0) counts as the 200 the server then sends.
    @inline(__always)
    static func code(_ status: Int) -> Int { status == 0 ? 200 : status }
}
