/// Handler errors, from logger `http.log.error`, as Caddy 2.6.2 logs them whether or not the
/// server has an access log: 5xx at ERROR, the rest at DEBUG, with the request, the status and
/// the error's id (`{http.error.id}`). An upstream that fails shows here as its 502.
package final class ErrorLog: Sendable {
    private let outputs: [Logs.Output]
    private let credentials: Bool

    static let logger = "http.log.error"

    init(logs: Logs, credentials: Bool) {
        outputs = logs.outputs(for: Self.logger)
        self.credentials = credentials
    }

    func record(_ request: Request, _ error: HTTPError, id: String, started: UInt64, loop: EventLoop?) {
        let level: LogLevel = error.status >= 500 ? .error : .debug
        guard outputs.contains(where: { level >= $0.level }) else { return }
        let duration = started == 0 ? 0 : SystemClock.monotonicNanos() &- started
        let wall = SystemClock.wallNanos()
        for output in outputs where output.admits(level, error.message) {
            LogBatch.write(to: output.sink, loop: loop) { buffer in
                var line = LogLine(output.encoder, level: level, logger: Self.logger, message: error.message, wallNanos: wall, buffer: buffer)
                AccessLog.describe(request, credentials: credentials, into: &line)
                line.field("duration", seconds: duration)
                line.field("status", int: error.status)
                line.field("err_id", string: id)
                line.field("err_trace", string: "")
                return line.end()
            }
        }
    }
}
