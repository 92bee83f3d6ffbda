import Glibc
import QuantumCore

/// What the stat of a file said when its hash was computed: while it still says the same, the
/// file is taken as unchanged without reading it (size, both times to the nanosecond, inode —
/// a write, a `touch`, a replace by rename all show).
struct FileStamp: Sendable, Equatable {
    var size: Int
    var modifiedNanos: Int
    var changedNanos: Int
    var inode: UInt64

    init(_ st: stat) {
        size = Int(st.st_size)
        // Wrapping: a stamp is only compared, and a time past 2262 must not trap.
        modifiedNanos = Int(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(st.st_mtim.tv_nsec)
        changedNanos = Int(st.st_ctim.tv_sec) &* 1_000_000_000 &+ Int(st.st_ctim.tv_nsec)
        inode = UInt64(st.st_ino)
    }

    init(size: Int, modifiedNanos: Int, changedNanos: Int, inode: UInt64) {
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.changedNanos = changedNanos
        self.inode = inode
    }
}

/// One entry of the store's index: what clients are told, and the stamp it was made from (nil:
/// not known, so the next look hashes the file again).
struct IndexEntry: Sendable, Equatable {
    var metadata: FileMetadata
    var stamp: FileStamp?

    init(_ metadata: FileMetadata, stamp: FileStamp? = nil) {
        self.metadata = metadata
        self.stamp = stamp
    }
}

/// The index as saved in the state directory (`index.tsv`), so the next start can tell what
/// changed while the server was down by comparing stamps — reading only the files whose stamp
/// differs. One line per entry: path, `d` or `f`, size, modified (RFC 3339), hash, then the
/// stamp (mtime ns, ctime ns, inode); paths cannot hold tabs or line breaks (`SyncPath`).
enum SavedIndex {
    static let fileName = "index.tsv"

    static func write(_ entries: [String: IndexEntry], to path: String) throws {
        var text = ""
        text.reserveCapacity(entries.count * 140)
        for (key, entry) in entries {
            let m = entry.metadata
            let s = entry.stamp
            text += "\(key)\t\(m.isDirectory ? "d" : "f")\t\(m.size)\t\(m.modified)\t\(m.hash)\t"
            text += s.map { "\($0.modifiedNanos)\t\($0.changedNanos)\t\($0.inode)" } ?? "-\t-\t-"
            text += "\n"
        }
        try FileIO.writeAtomically(Array(text.utf8), to: path, mode: 0o600)
    }

    /// The saved entries; nil when there is no saved index (the first start) or it cannot be
    /// read. Lines that do not parse, or name a path `SyncPath` refuses, are skipped.
    static func read(from path: String) -> [String: IndexEntry]? {
        guard let bytes = try? FileIO.readAll(path) else { return nil }
        var entries: [String: IndexEntry] = [:]
        entries.reserveCapacity(bytes.count / 120)
        bytes.withUnsafeBufferPointer { all in
            var fields: [Range<Int>] = []
            fields.reserveCapacity(8)
            var start = 0
            for i in 0...all.count where i == all.count || all[i] == 10 || all[i] == 9 {
                fields.append(start..<i)
                start = i + 1
                guard i == all.count || all[i] == 10 else { continue }
                if let entry = entry(fields.map { UnsafeBufferPointer(rebasing: all[$0]) }) { entries[entry.metadata.path] = entry }
                fields.removeAll(keepingCapacity: true)
            }
        }
        return entries
    }

    private static func entry(_ fields: [UnsafeBufferPointer<UInt8>]) -> IndexEntry? {
        guard fields.count == 8, let path = SyncPath(String(decoding: fields[0], as: UTF8.self)), !path.isRoot,
              let size = number(fields[2]) else { return nil }
        let metadata = FileMetadata(path: path.relative, size: size, hash: String(decoding: fields[4], as: UTF8.self),
                                    modified: String(decoding: fields[3], as: UTF8.self), isDirectory: fields[1].first == 100)
        var stamp: FileStamp?
        if let m = number(fields[5]), let c = number(fields[6]), let inode = number(fields[7]) {
            stamp = FileStamp(size: size, modifiedNanos: m, changedNanos: c, inode: UInt64(inode))
        }
        return IndexEntry(metadata, stamp: stamp)
    }

    /// A non-negative decimal (nil for `-`, empty or anything else).
    private static func number(_ digits: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value = 0
        for d in digits {
            guard d >= 48 && d <= 57 else { return nil }
            let (tens, over) = value.multipliedReportingOverflow(by: 10)
            let (next, carry) = tens.addingReportingOverflow(Int(d - 48))
            guard !over && !carry else { return nil }  // too big: no stamp, the file is hashed again
            value = next
        }
        return value
    }
}
