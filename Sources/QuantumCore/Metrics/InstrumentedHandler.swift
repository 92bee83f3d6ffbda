/// A handler of a metrics-enabled server, counted as Caddy 2.6.2 counts it: requests in flight
/// while it runs, a request (and an error when it throws) when it returns, and — once the
/// connection has sent the response — the four histograms, labelled with the status and method.
///
/// Only what happens at the handler's edges is recorded here; the histograms wait for the
/// response's size and end, which the connection knows (`ServerRuntime.completed`).
struct InstrumentedHandler: SynchronousHandler {
    let inner: any Handler
    let inline: (any SynchronousHandler)?
    /// The (server, handler) series of `HTTPMetrics.shared`.
    let series: Int

    init(_ inner: any Handler, series: Int) {
        self.inner = inner
        inline = inner as? any SynchronousHandler
        self.series = series
    }

    /// Wraps every handler of `routes` (not those of their subroutes or error routes: Caddy 2.6.2
    /// counts a subroute as the one handler `subroute`).
    static func instrument(_ routes: RouteList, server: String) -> RouteList {
        RouteList(routes.routes.map { route in
            var route = route
            route.handlers = route.handlers.map { handler in
                InstrumentedHandler(handler, series: HTTPMetrics.shared.series(server: server, handler: label(of: handler)))
            }
            return route
        })
    }

    /// The handler label: the module name (`static_response`), or the type's name for a handler
    /// made in code.
    static func label(of handler: any Handler) -> String {
        if let module = handler as? any Module { return type(of: module).moduleName }
        return String(describing: type(of: handler))
    }

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let started = entered(context)
        do {
            return left(started, try await inner.handle(request, context: context, next: next), request, context)
        } catch {
            failed(context)
            throw error
        }
    }

    func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        guard let inline else { return suspending(request, context: context, next: next) }
        let started = entered(context)
        let result: SyncResult
        do {
            result = try inline.respondSynchronously(request, context: context, next: next)
        } catch {
            failed(context)
            throw error
        }
        switch result {
        case .response(let response):
            return .response(left(started, response, request, context))
        case .suspended(let rest):
            return .suspended(Resumption {
                do {
                    return self.left(started, try await rest(), request, context)
                } catch {
                    self.failed(context)
                    throw error
                }
            })
        }
    }

    // MARK: - Edges

    @inline(__always)
    private func entered(_ context: Context) -> UInt64 {
        HTTPMetrics.shared.withShard(context.loop) { $0.counts(series).inFlight += 1 }
        return SystemClock.monotonicNanos()
    }

    @inline(__always)
    private func left(_ started: UInt64, _ response: Response, _ request: Request, _ context: Context) -> Response {
        let now = SystemClock.monotonicNanos()
        HTTPMetrics.shared.withShard(context.loop) { shard in
            let counts = shard.counts(series)
            counts.inFlight -= 1
            counts.requests &+= 1
        }
        var response = response
        let probe = MetricsProbe(series: UInt32(truncatingIfNeeded: series), started: started, headWritten: response.unhandled ? 0 : now,
                                 method: HTTPMetrics.methodIndex(request.method), requestSize: MetricsProbe.approximateSize(of: request))
        if response.metricsTrail == nil { response.metricsTrail = MetricsTrail(latest: probe) } else { response.metricsTrail!.append(probe) }
        return response
    }

    private func failed(_ context: Context) {
        HTTPMetrics.shared.withShard(context.loop) { shard in
            let counts = shard.counts(series)
            counts.inFlight -= 1
            counts.requests &+= 1
            counts.errors &+= 1
        }
    }
}

/// The instrumented handlers a response came through, innermost first; one handler (the usual
/// case) needs no allocation.
package struct MetricsTrail: Sendable {
    var latest: MetricsProbe
    var earlier: [MetricsProbe] = []

    mutating func append(_ probe: MetricsProbe) {
        earlier.append(latest)
        latest = probe
    }
}

/// One instrumented handler a response came through, waiting for the response to be sent.
package struct MetricsProbe: Sendable {
    let series: UInt32
    /// Monotonic nanoseconds when the handler was entered.
    let started: UInt64
    /// When it returned a response head; 0 when its chain fell through.
    let headWritten: UInt64
    let method: UInt8
    let requestSize: Int

    /// Prometheus's approximate request size, as Caddy computes it: the URI, method, protocol,
    /// header names and values (without Host), the host and the declared body length.
    static func approximateSize(of request: Request) -> Int {
        var size = request.rawPath.utf8.count + request.method.utf8.count + request.proto.utf8.count + request.host.utf8.count
        if !request.query.isEmpty { size += 1 + request.query.utf8.count }
        for field in request.headers where !field.name.equalsIgnoringASCIICase("host") {
            size += field.name.utf8.count + field.value.utf8.count
        }
        if let length = request.body.knownLength { size += length }
        return size
    }

    /// Observes every probe of a sent response: `status` as sent (0 when nothing handled it),
    /// `size` the body bytes sent.
    static func finish(_ trail: MetricsTrail, status: Int, size: Int, loop: EventLoop?) {
        let now = SystemClock.monotonicNanos()
        let code = HTTPMetrics.code(status)
        HTTPMetrics.shared.withShard(loop) { shard in
            observe(trail.latest, shard, code, size, now)
            for probe in trail.earlier { observe(probe, shard, code, size, now) }
        }
    }

    @inline(__always)
    private static func observe(_ probe: MetricsProbe, _ shard: HTTPMetricsShard, _ code: Int, _ size: Int, _ now: UInt64) {
        shard.counts(Int(probe.series)).observe(
            code: code, method: probe.method, duration: Double(now &- probe.started) / 1e9,
            ttfb: probe.headWritten == 0 ? nil : Double(probe.headWritten &- probe.started) / 1e9,
            requestSize: probe.requestSize, responseSize: size)
    }
}
