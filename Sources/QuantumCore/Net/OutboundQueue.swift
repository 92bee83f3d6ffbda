import CQuantumLinux
import Glibc

/// Bytes and file ranges waiting to be written to a socket, in order. Small byte pieces
/// coalesce; runs of byte chunks go out with one `send`/`sendmsg`; file ranges with `sendfile`.
struct OutboundQueue {
    private enum Chunk {
        case bytes([UInt8])
        case file(FileRegion)

        var count: Int {
            switch self {
            case .bytes(let b): b.count
            case .file(let r): r.length
            }
        }
    }

    private var chunks: [Chunk] = []
    /// How much of the first chunk is already written.
    private var offset = 0
    private(set) var pendingBytes = 0
    /// Every byte ever queued: with `pendingBytes`, tells whether what was queued since a
    /// moment has started to go out.
    private(set) var appendedBytes = 0
    /// A drained small buffer kept for the next response head, so steady traffic allocates nothing.
    private var spare: [UInt8] = []

    var isEmpty: Bool { pendingBytes == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pendingBytes += bytes.count
        appendedBytes += bytes.count
        if bytes.count < 8192, case .bytes(var last)? = chunks.last, last.count < 16384 {
            chunks[chunks.count - 1] = .bytes([])
            last.append(contentsOf: bytes)
            chunks[chunks.count - 1] = .bytes(last)
        } else {
            chunks.append(.bytes(bytes))
        }
    }

    mutating func append(_ region: FileRegion) {
        guard region.length > 0 else { return }
        pendingBytes += region.length
        appendedBytes += region.length
        chunks.append(.file(region))
    }

    /// Lets `body` append small pieces (a response head) straight into the last buffer.
    mutating func withTail(_ body: (inout [UInt8]) -> Void) {
        var buf: [UInt8]
        if case .bytes(let last)? = chunks.last, last.count < 16384 {
            chunks[chunks.count - 1] = .bytes([])  // keep `last` uniquely referenced
            buf = last
            let before = buf.count
            body(&buf)
            pendingBytes += buf.count - before
            appendedBytes += buf.count - before
            chunks[chunks.count - 1] = .bytes(buf)
        } else {
            buf = spare
            spare = []
            buf.removeAll(keepingCapacity: true)
            body(&buf)
            pendingBytes += buf.count
            appendedBytes += buf.count
            chunks.append(.bytes(buf))
        }
    }

    mutating func append(_ string: StaticString) {
        append(Array(UnsafeBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount)))
    }

    /// Takes back the last `n` bytes queued; false (and nothing changes) when some of them
    /// have been written already.
    mutating func removeLast(_ n: Int) -> Bool {
        guard n <= pendingBytes else { return false }
        var left = n
        while left > 0, let last = chunks.last {
            let available = chunks.count == 1 ? last.count - offset : last.count
            if available <= left {
                chunks.removeLast()
                if chunks.isEmpty { offset = 0 }
                left -= available
                continue
            }
            switch last {
            case .bytes(var bytes):
                chunks[chunks.count - 1] = .bytes([])  // keep `bytes` uniquely referenced
                bytes.removeLast(left)
                chunks[chunks.count - 1] = .bytes(bytes)
            case .file(let region):
                chunks[chunks.count - 1] = .file(FileRegion(file: region.file, offset: region.offset, length: region.length - left))
            }
            left = 0
        }
        pendingBytes -= n
        return true
    }

    enum WriteResult { case drained, blocked, failed(Int32) }

    /// Writes as much as the socket takes.
    mutating func write(to fd: Int32) -> WriteResult {
        while let first = chunks.first {
            let result: Int
            let wanted: Int
            switch first {
            case .file(let region):
                var position = off_t(region.offset + offset)
                wanted = region.length - offset
                result = sendfile(fd, region.file.fd, &position, wanted)
                if result == 0 { return .failed(EIO) }  // the file shrank under us
            case .bytes(let bytes):
                var run = 1
                while run < chunks.count && run < 64, case .bytes = chunks[run] { run += 1 }
                if run == 1 {
                    wanted = bytes.count - offset
                    result = bytes.withUnsafeBytes { Sockets.send(fd, $0.baseAddress! + offset, count: wanted) }
                } else {
                    (result, wanted) = writeRun(fd, run)
                }
            }
            if result < 0 {
                let e = cq_errno()
                if e == EAGAIN || e == EWOULDBLOCK { return .blocked }
                if e == EINTR { continue }
                return .failed(e)
            }
            consume(result)
            if result < wanted { return .blocked }
        }
        return .drained
    }

    /// Hands about `limit` queued bytes, in order, to `sink`, which takes all of a piece or
    /// fails with -1 (TLS encrypting into memory). File ranges are read in 16 KiB pieces (one TLS
    /// record each) since `sendfile` cannot encrypt. Returns the bytes taken, nil on failure.
    mutating func drain(limit: Int, into sink: (UnsafeRawBufferPointer) -> Int) -> Int? {
        var done = 0
        while done < limit, let first = chunks.first {
            let taken: Int
            switch first {
            case .bytes(let bytes):
                let n = min(bytes.count - offset, limit - done)
                let start = offset
                taken = bytes.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) }
            case .file(let region):
                let n = min(region.length - offset, 16384)
                let at = off_t(region.offset + offset)
                taken = withUnsafeTemporaryAllocation(byteCount: 16384, alignment: 16) { buf -> Int in
                    var r = pread(region.file.fd, buf.baseAddress, n, at)
                    while r < 0 && cq_errno() == EINTR { r = pread(region.file.fd, buf.baseAddress, n, at) }
                    if r <= 0 { return -1 }  // an error, or the file shrank under us
                    return sink(UnsafeRawBufferPointer(rebasing: buf[0..<r]))
                }
            }
            if taken < 0 { return nil }
            consume(taken)
            done += taken
        }
        return done
    }

    /// One `sendmsg` of the first `run` byte chunks.
    private func writeRun(_ fd: Int32, _ run: Int) -> (Int, Int) {
        var total = 0
        let written: Int = withUnsafeTemporaryAllocation(of: iovec.self, capacity: run) { iov in
            withExtendedLifetime(chunks) {
                for i in 0..<run {
                    guard case .bytes(let b) = chunks[i] else { continue }
                    let skip = i == 0 ? offset : 0
                    b.withUnsafeBytes { raw in
                        iov[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
                    }
                    total += b.count - skip
                }
                return Sockets.send(fd, iov.baseAddress, count: Int32(run))
            }
        }
        return (written, total)
    }

    private mutating func consume(_ count: Int) {
        var left = count
        pendingBytes -= count
        var drop = 0
        while left > 0 {
            let avail = chunks[drop].count - offset
            if left >= avail { left -= avail; drop += 1; offset = 0 } else { offset += left; left = 0 }
        }
        if drop == chunks.count {
            if chunks.count == 1, case .bytes(let b) = chunks[0], b.capacity <= 65536 { spare = b }
            chunks.removeAll(keepingCapacity: true)
        } else if drop > 0 {
            chunks.removeFirst(drop)
        }
    }
}
