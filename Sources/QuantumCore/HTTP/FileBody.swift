import Glibc
import Synchronization

/// A request body read from a file as it is sent (uploads of any size in constant memory).
final class FileBodySource: Sendable {
    let length: Int
    private let fd: Int32
    private let offset = Mutex(0)
    /// Told the bytes handed out so far, after each piece.
    private let progress: (@Sendable (Int) -> Void)?
    static let chunkBytes = 256 * 1024

    init(path: String, progress: (@Sendable (Int) -> Void)? = nil) throws {
        self.progress = progress
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError.last("open \(path)") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = SystemError.last("stat \(path)"); close(fd); throw e }
        self.fd = fd
        length = Int(st.st_size)
    }

    deinit { close(fd) }

    /// The next piece, read on the blocking pool; nil once `length` bytes were handed out (a
    /// file that shrank meanwhile is an error: the declared length would be a lie).
    func next() async throws -> [UInt8]? {
        let start = offset.withLock { $0 }
        guard start < length else { return nil }
        let want = min(Self.chunkBytes, length - start)
        let fd = self.fd
        let chunk = try await BlockingPool.shared.run { () throws -> [UInt8] in
            var buffer = [UInt8](repeating: 0, count: want)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(start)) }
            guard n > 0 else { throw SystemError(operation: "read (the file shrank while it was sent)", code: n < 0 ? errno : EIO) }
            if n < want { buffer.removeLast(want - n) }
            return buffer
        }
        offset.withLock { $0 = start + chunk.count }
        progress?(start + chunk.count)
        return chunk
    }
}

extension RequestBody {
    /// The contents of the file at `path`, read piece by piece while the request is sent
    /// (`Content-Length` is its size when opened).
    /// `progress` is told the bytes read so far after each piece (about what was sent: a
    /// piece is read when the connection can take it).
    public init(contentsOfFile path: String, progress: (@Sendable (Int) -> Void)? = nil) throws {
        self.init(file: try FileBodySource(path: path, progress: progress))
    }
}
