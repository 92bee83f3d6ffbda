import CQuantumLinux
import Glibc

/// Bytes waiting to be written to a socket: small pieces coalesce, large ones are kept as
/// separate chunks and go out together with one `writev`.
struct OutboundQueue {
    private var chunks: [[UInt8]] = []
    private var offset = 0
    private(set) var pendingBytes = 0
    /// A drained small buffer kept for the next response head, so steady traffic allocates nothing.
    private var spare: [UInt8] = []

    var isEmpty: Bool { pendingBytes == 0 }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        pendingBytes += bytes.count
        if bytes.count < 8192, let last = chunks.last, last.count < 16384 {
            chunks[chunks.count - 1].append(contentsOf: bytes)
        } else {
            chunks.append(bytes)
        }
    }

    /// Lets `body` append small pieces (a response head) straight into the last buffer.
    mutating func withTail(_ body: (inout [UInt8]) -> Void) {
        if let last = chunks.last, last.count < 16384 {
            let before = last.count
            body(&chunks[chunks.count - 1])
            pendingBytes += chunks[chunks.count - 1].count - before
        } else {
            var buf = spare
            spare = []
            buf.removeAll(keepingCapacity: true)
            body(&buf)
            pendingBytes += buf.count
            chunks.append(buf)
        }
    }

    mutating func append(_ string: StaticString) {
        append(Array(UnsafeBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount)))
    }

    enum WriteResult { case drained, blocked, failed(Int32) }

    /// Writes as much as the socket takes.
    mutating func write(to fd: Int32) -> WriteResult {
        while !chunks.isEmpty {
            if chunks.count == 1 {
                // One buffer (the common case: a batch of small responses): plain write(2).
                let result = chunks[0].withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if result < 0 {
                    let e = cq_errno()
                    if e == EAGAIN || e == EWOULDBLOCK { return .blocked }
                    if e == EINTR { continue }
                    return .failed(e)
                }
                let wanted = chunks[0].count - offset
                consume(result)
                if result < wanted { return .blocked }
                continue
            }
            let n = min(chunks.count, 64)
            var total = 0
            let written: Int = withUnsafeTemporaryAllocation(of: iovec.self, capacity: n) { iov in
                withExtendedLifetime(chunks) {
                    for i in 0..<n {
                        let skip = i == 0 ? offset : 0
                        chunks[i].withUnsafeBytes { raw in
                            iov[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + skip), iov_len: raw.count - skip)
                        }
                        total += chunks[i].count - skip
                    }
                    return writev(fd, iov.baseAddress, Int32(n))
                }
            }
            if written < 0 {
                let e = cq_errno()
                if e == EAGAIN || e == EWOULDBLOCK { return .blocked }
                if e == EINTR { continue }
                return .failed(e)
            }
            consume(written)
            if written < total { return .blocked }
        }
        return .drained
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
            if chunks.count == 1 && chunks[0].capacity <= 65536 { spare = chunks[0] }
            chunks.removeAll(keepingCapacity: true)
        } else if drop > 0 {
            chunks.removeFirst(drop)
        }
    }
}
