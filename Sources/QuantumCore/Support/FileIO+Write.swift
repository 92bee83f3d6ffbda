import Glibc

extension FileIO {
    /// Writes through a temporary file in the same directory, `fsync`, then `rename`: a reader
    /// (or a crash) never sees half a certificate or key. `mode` applies to the new file.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let temporary = path + ".tmp-\(getpid())"
        // A fresh file: never through a link someone placed at the temporary name.
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError.last("open \(temporary)") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = SystemError.last("write \(temporary)")
                close(fd); unlink(temporary)
                throw error
            }
            offset += n
        }
        _ = fchmod(fd, mode)
        guard fsync(fd) == 0 else { let e = SystemError.last("fsync \(temporary)"); close(fd); unlink(temporary); throw e }
        close(fd)
        guard rename(temporary, path) == 0 else { let e = SystemError.last("rename \(path)"); unlink(temporary); throw e }
    }

    /// `mkdir -p` with `mode` for the directories it creates.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST { throw SystemError.last("mkdir \(current)") }
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
