/// One metric family as Prometheus scrapes it: a name, its help and type, and its samples.
/// Collectors build these on each scrape; `PrometheusText` writes them.
package struct MetricFamily: Sendable {
    package enum Kind: String, Sendable { case counter, gauge, histogram }

    /// One labelled value (counters, gauges) or one labelled histogram.
    package struct Sample: Sendable {
        /// Label names and values; written sorted by name, as Prometheus's Go client does.
        package var labels: [(String, String)]
        package var value: Double
        /// Per-bucket counts (not cumulative), one per bound plus the +Inf bucket; nil for
        /// counters and gauges.
        package var buckets: [UInt64]?

        package init(_ labels: [(String, String)] = [], _ value: Double) {
            self.labels = labels.sorted { $0.0 < $1.0 }
            self.value = value
        }

        package init(_ labels: [(String, String)], histogram: Histogram) {
            self.labels = labels.sorted { $0.0 < $1.0 }
            value = histogram.sum
            buckets = histogram.counts
        }
    }

    package let name: String
    package let help: String
    package let kind: Kind
    package var samples: [Sample]
    /// The upper bounds of a histogram's buckets (without +Inf).
    package var bounds: [Double] = []

    package init(_ name: String, _ kind: Kind, help: String, samples: [Sample] = [], bounds: [Double] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
        self.bounds = bounds
    }

    /// A family of one unlabelled value.
    package static func single(_ name: String, _ kind: Kind, help: String, _ value: Double) -> MetricFamily {
        MetricFamily(name, kind, help: help, samples: [Sample([], value)])
    }
}

/// Observations counted into fixed buckets, with their sum.
package struct Histogram: Sendable {
    /// Prometheus's default buckets, in seconds: what Caddy's duration histograms use.
    package static let durationBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// 256·4^k bytes for k = 0…7: Caddy's size histograms.
    package static let sizeBounds: [Double] = (0..<8).map { 256 * pow4($0) }

    /// Count per bucket, the last one past every bound (+Inf).
    package private(set) var counts: [UInt64]
    package private(set) var sum: Double = 0

    package init(bucketCount: Int) { counts = Array(repeating: 0, count: bucketCount + 1) }

    /// A histogram with these per-bucket counts (the last one +Inf's) and sum.
    package init(counts: [UInt64], sum: Double) {
        self.counts = counts
        self.sum = sum
    }

    package var count: UInt64 { counts.reduce(0, +) }

    /// The bucket `value` falls in: the first bound it does not exceed (Prometheus's `le`), or +Inf's.
    @inline(__always)
    static func bucket(of value: Double, _ bounds: [Double]) -> Int {
        var i = 0
        while i < bounds.count && value > bounds[i] { i += 1 }
        return i
    }

    package mutating func add(_ other: Histogram) {
        for i in counts.indices where i < other.counts.count { counts[i] &+= other.counts[i] }
        sum += other.sum
    }

    private static func pow4(_ k: Int) -> Double { (0..<k).reduce(1.0) { r, _ in r * 4 } }
}
