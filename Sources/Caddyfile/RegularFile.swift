import Glibc
import QuantumCore

/// Reads a file the Caddyfile names (an import, a certificate): only a regular file, and only
/// up to a limit, so `/dev/zero` or a FIFO cannot hang or exhaust the adapter.
enum RegularFile {
    struct Failure: Error { let message: String }

    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure(message: String(cString: strerror(errno)).lowercased()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(message: "is a directory") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(message: "not a regular file") }
        guard info.st_size <= limit else { throw Failure(message: "larger than \(limit >> 20) MiB") }
        do { return try FileIO.readAll(path) } catch { throw Failure(message: "\(error)") }
    }
}
