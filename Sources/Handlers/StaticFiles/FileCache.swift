import QuantumCore
import Synchronization

/// Recently looked-up files and listings, one table per event loop (so no lock on the request
/// path), trusted for one second before they are looked up again on the blocking pool. The
/// price: a change on disk may be seen up to a second late, like nginx's `open_file_cache`.
final class FileCache: @unchecked Sendable {  // tables are loop-confined; `loopsUsed` is locked
    static let ttl: UInt64 = 1_000_000_000
    static let maxEntries = 4096
    static let maxContentBytes = 32 << 20

    final class Table {
        var entries: [String: (FileEntry, UInt64)] = [:]
        var listings: [String: ([DirectoryItem]?, UInt64)] = [:]
        var contentBytes = 0
    }

    /// The key of this cache's table in each loop's local storage: an object of its own, kept
    /// alive until every loop has let go of its table (so no later cache reuses the identity).
    private final class Key: Sendable {}
    private let key = Key()
    /// The loops that made a table (once each, so the lock is off the request path).
    private let loopsUsed = Mutex<[EventLoop]>([])

    /// This loop's table: each loop its own (an array shared by index once let two loops of a
    /// machine with more than 64 cores write one dictionary).
    private func table(_ loop: EventLoop?) -> Table? {
        guard let loop else { return nil }
        return loop.local(ObjectIdentifier(key)) {
            loopsUsed.withLock { $0.append(loop) }
            return Table()
        }
    }

    deinit {
        let key = self.key
        for loop in loopsUsed.withLock({ $0 }) { loop.execute { _ = loop.removeLocal(ObjectIdentifier(key)) } }
    }

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
