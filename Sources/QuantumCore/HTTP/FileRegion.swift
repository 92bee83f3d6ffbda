import Glibc

/// An open file descriptor, closed when the last reference goes away. Shared by responses:
/// they read with explicit offsets (`sendfile`, `pread`), never with the file position.
/// `@unchecked Sendable`: `fd` never changes, and positioned reads share no state between threads.
public final class OpenFile: @unchecked Sendable {
    /// The descriptor; do not close it yourself, and read it only with explicit offsets.
    public let fd: Int32
    /// Takes ownership of `fd`: it is closed when the last reference goes away.
    public init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// Reads `count` bytes at `offset` (blocking; small files or the pool only).
    public func read(offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw SystemError.last("pread") }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeSubrange(done...) }
        return out
    }
}

/// A byte range of a file sent as a response body (`sendfile(2)` on plain connections).
public struct FileRegion: Sendable {
    /// Kept open for as long as the response holds the region.
    public let file: OpenFile
    /// Where the range starts, in bytes from the start of the file.
    public let offset: Int
    /// Bytes to send from `offset`; becomes the body's Content-Length.
    public let length: Int

    /// Nothing is checked here: the caller makes sure the range lies within the file.
    public init(file: OpenFile, offset: Int, length: Int) {
        self.file = file
        self.offset = offset
        self.length = length
    }
}
