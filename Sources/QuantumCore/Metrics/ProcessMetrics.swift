import Glibc

/// The standard `process_*` families Prometheus's Go client exports (and Caddy with it), read
/// from `/proc` on each scrape.
enum ProcessMetrics {
    static func families() -> [MetricFamily] {
        var out: [MetricFamily] = []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        // /proc/self/stat: fields after the parenthesised command name, which may hold spaces.
        if let stat = text("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 (state): field N is fields[N - 3].
            func field(_ n: Int) -> Double? { n - 3 < fields.count ? Double(fields[n - 3]) : nil }
            if let user = field(14), let system = field(15) {
                out.append(.single("process_cpu_seconds_total", .counter, help: "Total user and system CPU time spent in seconds.",
                                   (user + system) / ticks))
            }
            if let virtual = field(23) {
                out.append(.single("process_virtual_memory_bytes", .gauge, help: "Virtual memory size in bytes.", virtual))
            }
            if let pages = field(24) {
                out.append(.single("process_resident_memory_bytes", .gauge, help: "Resident memory size in bytes.",
                                   pages * Double(sysconf(Int32(_SC_PAGESIZE)))))
            }
            if let start = field(22), let boot = bootTime() {
                out.append(.single("process_start_time_seconds", .gauge, help: "Start time of the process since unix epoch in seconds.",
                                   boot + start / ticks))
            }
        }
        if let open = openDescriptors() {
            out.append(.single("process_open_fds", .gauge, help: "Number of open file descriptors.", Double(open)))
        }
        if let limits = text("/proc/self/limits") {
            if let files = softLimit(limits, "Max open files") {
                out.append(.single("process_max_fds", .gauge, help: "Maximum number of open file descriptors.", files))
            }
            if let space = softLimit(limits, "Max address space") {
                out.append(.single("process_virtual_memory_max_bytes", .gauge,
                                   help: "Maximum amount of virtual memory available in bytes.", space))
            }
        }
        return out
    }

    private static func text(_ path: String) -> String? {
        guard let bytes = try? FileIO.readAll(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func bootTime() -> Double? {
        guard let stat = text("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingOWS())
        }
        return nil
    }

    /// The soft limit of a `/proc/self/limits` row; `unlimited` is the largest unsigned value, as Go reports it.
    private static func softLimit(_ limits: String, _ name: String) -> Double? {
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return nil }
        let columns = line.dropFirst(name.count).split(separator: " ")
        guard let soft = columns.first else { return nil }
        return soft == "unlimited" ? Double(UInt64.max) : Double(soft)
    }

    private static func openDescriptors() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count - 1  // the directory stream's own descriptor
    }
}
