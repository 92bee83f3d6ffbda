import Glibc
import QuantumCore
import Synchronization

/// Every operation gets the next `seq`; the last `capacity` are kept — in memory and appended
/// to `operations.jsonl` in the state directory — so clients that were offline catch up with
/// `Subscribe.since`. The file is rewritten to the kept tail when it grows past twice that.
public final class OperationLog: Sendable {
    private struct State {
        var entries: [LoggedOperation] = []
        var lastSeq = 0
        var linesInFile = 0
    }

    private let state = Mutex(State())
    private let file: String
    private let capacity: Int

    public init(directory: String, capacity: Int) {
        file = directory + "/operations.jsonl"
        self.capacity = max(1, capacity)
        var s = State()
        if let bytes = try? FileIO.readAll(file) {
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                guard let json = try? JSONParser.parse(Array(line)), let entry = LoggedOperation(json: json) else { continue }
                s.entries.append(entry)
                s.lastSeq = max(s.lastSeq, entry.seq)
                s.linesInFile += 1
            }
            if s.entries.count > self.capacity { s.entries.removeFirst(s.entries.count - self.capacity) }
        }
        state.withLock { $0 = s }
    }

    /// The seq of the newest operation (0 before any).
    public var lastSeq: Int { state.withLock { $0.lastSeq } }

    /// Records `operation` and returns it with its seq.
    @discardableResult
    public func append(_ operation: SyncOperation, source: String?) -> LoggedOperation {
        state.withLock { s in
            s.lastSeq += 1
            let entry = LoggedOperation(seq: s.lastSeq, operation: operation, sourceClient: source)
            s.entries.append(entry)
            if s.entries.count > capacity { s.entries.removeFirst(s.entries.count - capacity) }
            if s.linesInFile >= capacity * 2 {
                rewrite(s.entries)
                s.linesInFile = s.entries.count
            } else {
                appendLine(entry)
                s.linesInFile += 1
            }
            return entry
        }
    }

    /// Operations after `seq`, oldest first; nil when some of them were already dropped (the
    /// client must then compare its whole tree with `/api/list`).
    public func since(_ seq: Int) -> [LoggedOperation]? {
        state.withLock { s in
            if seq >= s.lastSeq { return [] }
            guard let first = s.entries.first, first.seq <= seq + 1 else { return nil }
            return s.entries.filter { $0.seq > seq }
        }
    }

    private func appendLine(_ entry: LoggedOperation) {
        let line = Array((entry.json.serialized + "\n").utf8)
        let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Replaces the file with `entries` (temp file + rename, so a crash keeps one whole version).
    private func rewrite(_ entries: [LoggedOperation]) {
        let temporary = file + ".tmp"
        let text = Array(entries.map { $0.json.serialized + "\n" }.joined().utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        rename(temporary, file)
    }
}
