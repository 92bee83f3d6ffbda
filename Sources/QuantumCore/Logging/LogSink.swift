import CZlib
import Glibc
import Synchronization

/// Where a log's bytes go: standard output or error, nowhere, or a file that rolls over at a
/// size (renamed with a timestamp and gzipped off the loops, the oldest beyond `roll_keep` or
/// `roll_keep_days` removed), as Caddy's writers. Entries arrive in batches (a loop's tick's worth); a batch is one write.
/// A write that fails (disk full, the folder gone) is reported once and the server goes on.
package final class LogSink: Sendable {
    enum Target: Sendable {
        case descriptor(Int32)
        case discard
        case file(FileWriterConfig)
    }

    let target: Target
    /// The open file (file writers), reopened when it rolls.
    private let file = Mutex<Int32>(-1)
    private let size = Atomic<Int>(0)
    private let failureReported = Atomic<Bool>(false)

    init(_ config: LogWriterConfig) throws {
        switch config {
        case .stdout: target = .descriptor(1)
        case .stderr: target = .descriptor(2)
        case .discard: target = .discard
        case .file(let settings):
            target = .file(settings)
            let fd = try Self.open(settings.filename)
            file.withLock { $0 = fd }
            var st = stat()
            if fstat(fd, &st) == 0 { size.store(Int(st.st_size), ordering: .relaxed) }
        }
    }

    deinit { file.withLock { if $0 >= 0 { Glibc.close($0) } } }

    private static func open(_ path: String) throws -> Int32 {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex { try? FileIO.makeDirectories(String(path[..<slash]), mode: 0o755) }
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError.last("open log file \(path)") }
        return fd
    }

    /// Writes one batch of encoded entries.
    func write(_ bytes: UnsafeRawBufferPointer) {
        switch target {
        case .discard: return
        case .descriptor(let fd): writeAll(fd, bytes, path: fd == 1 ? "stdout" : "stderr")
        case .file(let settings):
            let fd = file.withLock { fd -> Int32 in
                if settings.roll, size.load(ordering: .relaxed) + bytes.count > settings.rollSizeBytes, size.load(ordering: .relaxed) > 0 {
                    roll(settings, &fd)
                }
                return fd
            }
            if writeAll(fd, bytes, path: settings.filename) { size.add(bytes.count, ordering: .relaxed) }
        }
    }

    @discardableResult
    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if !failureReported.exchange(true, ordering: .relaxed) {
                    ServerLog.warn("logging", "writing the log \(path) failed: \(String(cString: strerror(errno))); entries are being lost until it works again")
                }
                return false
            }
            offset += n
        }
        if failureReported.load(ordering: .relaxed) { failureReported.store(false, ordering: .relaxed) }
        return true
    }

    /// Moves the full file aside (`name-2026-12-07T14-35-15.123.log`) and starts a new one;
    /// then prunes the rolled files past `roll_keep` and `roll_keep_days`.
    private func roll(_ settings: FileWriterConfig, _ fd: inout Int32) {
        let path = settings.filename
        let (base, ext) = Self.split(path)
        let rolled = base + "-" + Self.stamp(local: settings.rollLocalTime) + ext
        guard rename(path, rolled) == 0, let fresh = try? Self.open(path) else { return }
        Glibc.close(fd)
        fd = fresh
        size.store(0, ordering: .relaxed)
        guard settings.rollGzip else {
            Self.prune(settings, base: base, ext: ext)
            return
        }
        BlockingPool.shared.detach {
            Self.compress(rolled)
            Self.prune(settings, base: base, ext: ext)
        }
    }

    /// `path` gzipped to `path.gz` (complete before it has that name), then removed.
    private static func compress(_ path: String) {
        let partial = path + ".gz.partial"
        let input = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0, let output = gzopen(partial, "wb") else {
            if input >= 0 { Glibc.close(input) }
            return
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var ok = true
        while true {
            let n = Glibc.read(input, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { ok = n == 0; break }
            if gzwrite(output, buffer, UInt32(n)) != Int32(n) { ok = false; break }
        }
        Glibc.close(input)
        if gzclose(output) == Z_OK && ok && rename(partial, path + ".gz") == 0 {
            unlink(path)
        } else {
            unlink(partial)
            ServerLog.warn("logging", "could not compress the rolled log \(path); it stays uncompressed")
        }
    }

    private static func prune(_ settings: FileWriterConfig, base: String, ext: String) {
        let slash = base.lastIndex(of: "/")
        let directory = slash.map { String(base[..<$0]) } ?? "."
        let prefix = (slash.map { String(base[base.index(after: $0)...]) } ?? base) + "-"
        guard let dir = opendir(directory) else { return }
        var rolled: [(name: String, modified: Int)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), name.hasSuffix(ext) || name.hasSuffix(ext + ".gz") else { continue }
            rolled.append((name, FileIO.modificationTime(directory + "/" + name) ?? 0))
        }
        closedir(dir)
        rolled.sort { $0.name > $1.name }  // newest first: the stamp sorts by time
        let oldest = Int(SystemClock.wallSeconds()) - settings.rollKeepDays * 86_400
        for (index, file) in rolled.enumerated() where (settings.rollKeep > 0 && index >= settings.rollKeep)
            || (settings.rollKeepDays > 0 && file.modified < oldest) {
            unlink(directory + "/" + file.name)
        }
    }

    private static func split(_ path: String) -> (String, String) {
        let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? Substring(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (path, "") }
        return (String(path[..<dot]), String(path[dot...]))
    }

    private static func stamp(local: Bool) -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        if local { localtime_r(&seconds, &parts) } else { gmtime_r(&seconds, &parts) }
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let millis = Int(ts.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour))-\(two(parts.tm_min))-\(two(parts.tm_sec)).\(ms)"
    }
}
