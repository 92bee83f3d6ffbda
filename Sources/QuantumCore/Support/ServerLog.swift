import Glibc

/// Warnings the server itself raises (not a request's): one JSON line on standard error in
/// Caddy's log shape (`level`, `ts`, `logger`, `msg`), so they read like Caddy's own.
package enum ServerLog {
    package static func warn(_ logger: String, _ message: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ts = String(now.tv_sec) + "." + String(1_000_000_000 + now.tv_nsec).dropFirst()
        let line = #"{"level":"warn","ts":\#(ts),"logger":\#(JSONValue.quote(logger)),"msg":\#(JSONValue.quote(message))}"# + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
