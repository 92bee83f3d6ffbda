/// Byte chunks in arrival order. Most bodies arrive as one chunk, held without an array, so a
/// small proxied response costs no allocation here.
struct ChunkQueue {
    /// The first chunk, when the queue had none before it (it precedes all of `rest`).
    private var single: [UInt8]?
    private var rest: [[UInt8]] = []
    private var head = 0

    var isEmpty: Bool { single == nil && head == rest.count }
    var count: Int { (single == nil ? 0 : 1) + rest.count - head }

    mutating func append(_ chunk: [UInt8]) {
        if single == nil && head == rest.count { single = chunk } else { rest.append(chunk) }
    }

    mutating func removeFirst() -> [UInt8] {
        if let s = single { single = nil; return s }
        let chunk = rest[head]
        head += 1
        if head == rest.count { rest.removeAll(keepingCapacity: true); head = 0 }
        return chunk
    }

    /// Everything, as one array (no copy when it is one chunk).
    mutating func removeAllJoined() -> [UInt8] {
        var all = single ?? []
        single = nil
        for c in rest[head...] { all += c }
        removeAll()
        return all
    }

    mutating func removeAll() {
        single = nil
        rest.removeAll()
        head = 0
    }
}
