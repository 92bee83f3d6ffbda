import QuantumCore

/// Recently looked-up files and listings, one table per event loop (so no lock on the request
/// path), trusted for one second before they are looked up again on the blocking pool. The
/// price: a change on disk may be seen up to a second late, like nginx's `open_file_cache`.
final class FileCache: @unchecked Sendable {
    static let ttl: UInt64 = 1_000_000_000
    static let maxEntries = 4096
    static let maxContentBytes = 32 << 20

    final class Table {
        var entries: [String: (FileEntry, UInt64)] = [:]
        var listings: [String: ([DirectoryItem]?, UInt64)] = [:]
        var contentBytes = 0
    }

    private let tables: [Table] = (0..<64).map { _ in Table() }

    private func table(_ loop: EventLoop?) -> Table? { loop.map { tables[$0.index % tables.count] } }

    func entry(_ path: String, loop: EventLoop?) -> FileEntry? {
        guard let loop, let (entry, at) = table(loop)?.entries[path], loop.now &- at < Self.ttl else { return nil }
        return entry
    }

    func store(_ entry: FileEntry, for path: String, loop: EventLoop?) {
        guard let loop, let t = table(loop) else { return }
        if t.entries.count >= Self.maxEntries || t.contentBytes >= Self.maxContentBytes {
            t.entries.removeAll(keepingCapacity: true)
            t.contentBytes = 0
        }
        if case .file(let info) = entry, let content = info.content { t.contentBytes += content.count }
        t.entries[path] = (entry, loop.now)
    }

    func listing(_ path: String, loop: EventLoop?) -> [DirectoryItem]?? {
        guard let loop, let (items, at) = table(loop)?.listings[path], loop.now &- at < Self.ttl else { return nil }
        return .some(items)
    }

    func storeListing(_ items: [DirectoryItem]?, for path: String, loop: EventLoop?) {
        guard let loop, let t = table(loop) else { return }
        if t.listings.count >= 256 { t.listings.removeAll(keepingCapacity: true) }
        t.listings[path] = (items, loop.now)
    }
}
