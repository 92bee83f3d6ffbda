/// One event loop's counts for the handlers of metrics-enabled servers: written only on that
/// loop's thread (no atomics on the request path), read on scrape by a job submitted to the loop.
/// `@unchecked Sendable`: confined to its loop, or to the lock of the shared off-loop shard.
final class HTTPMetricsShard: @unchecked Sendable {
    /// The loop this shard belongs to (weak: a stopped loop's counts stay, its loop goes).
    weak var loop: EventLoop?
    /// Counts by handler series (`HTTPMetrics.series`), grown on demand.
    private(set) var handlers: [HandlerCounts?] = []

    init(loop: EventLoop?) { self.loop = loop }

    @inline(__always)
    func counts(_ series: Int) -> HandlerCounts {
        if series < handlers.count, let counts = handlers[series] { return counts }
        if series >= handlers.count { handlers += Array(repeating: nil, count: series + 1 - handlers.count) }
        let counts = HandlerCounts()
        handlers[series] = counts
        return counts
    }

    /// A copy of every count, for merging on scrape.
    func snapshot() -> [Int: HandlerCounts.Snapshot] {
        var out: [Int: HandlerCounts.Snapshot] = [:]
        for (series, counts) in handlers.enumerated() {
            if let counts { out[series] = counts.snapshot() }
        }
        return out
    }
}

/// Counts of one (server, handler) pair: Caddy's counters and gauge, and its four histograms
/// per (status code, method).
final class HandlerCounts {
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var inFlight: Int64 = 0
    private var outcomes: [OutcomeCounts] = []

    /// The four histograms of one status code and method, as values (a scrape's copy).
    struct Outcome: Sendable {
        let code: Int
        let method: UInt8
        var requestDuration = Histogram(bucketCount: Histogram.durationBounds.count)
        var responseDuration = Histogram(bucketCount: Histogram.durationBounds.count)
        var requestSize = Histogram(bucketCount: Histogram.sizeBounds.count)
        var responseSize = Histogram(bucketCount: Histogram.sizeBounds.count)

        init(code: Int, method: UInt8) {
            self.code = code
            self.method = method
        }

        mutating func add(_ other: Outcome) {
            requestDuration.add(other.requestDuration)
            responseDuration.add(other.responseDuration)
            requestSize.add(other.requestSize)
            responseSize.add(other.responseSize)
        }
    }

    struct Snapshot: Sendable {
        var requests: UInt64
        var errors: UInt64
        var inFlight: Int64
        var outcomes: [Outcome]

        mutating func add(_ other: Snapshot) {
            requests &+= other.requests
            errors &+= other.errors
            inFlight &+= other.inFlight
            for o in other.outcomes {
                if let i = outcomes.firstIndex(where: { $0.code == o.code && $0.method == o.method }) {
                    outcomes[i].add(o)
                } else {
                    outcomes.append(o)
                }
            }
        }
    }

    /// Records one finished request: `ttfb` nil when no response head was written by the
    /// handler's chain (it fell through).
    @inline(__always)
    func observe(code: Int, method: UInt8, duration: Double, ttfb: Double?, requestSize: Int, responseSize: Int) {
        var i = 0
        while i < outcomes.count && (outcomes[i].code != code || outcomes[i].method != method) { i += 1 }
        if i == outcomes.count { outcomes.append(OutcomeCounts(code: code, method: method)) }
        outcomes[i].observe(duration: duration, ttfb: ttfb, requestSize: requestSize, responseSize: responseSize)
    }

    func snapshot() -> Snapshot {
        Snapshot(requests: requests, errors: errors, inFlight: inFlight, outcomes: outcomes.map { $0.snapshot() })
    }
}

/// The live form of `HandlerCounts.Outcome`: every bucket of the four histograms in one flat
/// buffer, so an observation is a few increments with no copy-on-write checks.
final class OutcomeCounts {
    let code: Int
    let method: UInt8
    private static let durations = Histogram.durationBounds.count + 1
    private static let sizes = Histogram.sizeBounds.count + 1
    /// requestDuration, responseDuration (durations + 1 each), then requestSize, responseSize.
    private let counts: UnsafeMutablePointer<UInt64>
    private var sums: (Double, Double, Double, Double) = (0, 0, 0, 0)
    private static let total = 2 * durations + 2 * sizes

    init(code: Int, method: UInt8) {
        self.code = code
        self.method = method
        counts = .allocate(capacity: Self.total)
        counts.initialize(repeating: 0, count: Self.total)
    }

    deinit { counts.deallocate() }

    @inline(__always)
    func observe(duration: Double, ttfb: Double?, requestSize: Int, responseSize: Int) {
        let d = Self.durations, s = Self.sizes
        counts[Histogram.bucket(of: duration, Histogram.durationBounds)] &+= 1
        sums.0 += duration
        if let ttfb {
            counts[d + Histogram.bucket(of: ttfb, Histogram.durationBounds)] &+= 1
            sums.1 += ttfb
        }
        counts[2 * d + Histogram.bucket(of: Double(requestSize), Histogram.sizeBounds)] &+= 1
        sums.2 += Double(requestSize)
        counts[2 * d + s + Histogram.bucket(of: Double(responseSize), Histogram.sizeBounds)] &+= 1
        sums.3 += Double(responseSize)
    }

    func snapshot() -> HandlerCounts.Outcome {
        let d = Self.durations, s = Self.sizes
        func histogram(_ offset: Int, _ count: Int, _ sum: Double) -> Histogram {
            Histogram(counts: Array(UnsafeBufferPointer(start: counts + offset, count: count)), sum: sum)
        }
        var o = HandlerCounts.Outcome(code: code, method: method)
        o.requestDuration = histogram(0, d, sums.0)
        o.responseDuration = histogram(d, d, sums.1)
        o.requestSize = histogram(2 * d, s, sums.2)
        o.responseSize = histogram(2 * d + s, s, sums.3)
        return o
    }
}
