import Glibc

/// Connected sockets are read and written with `recv`, `send` and `sendmsg`, not `read`,
/// `write` and `writev`: the socket calls skip the file layer's work on every call (the file
/// position lock, the access checks, the fsnotify hooks), and `MSG_NOSIGNAL` makes a write to
/// a reset connection fail with `EPIPE` without raising `SIGPIPE`.
extension Sockets {
    @inline(__always)
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawPointer?, count: Int) -> Int {
        recv(fd, buffer, count, 0)
    }

    @inline(__always)
    static func send(_ fd: Int32, _ bytes: UnsafeRawPointer?, count: Int) -> Int {
        Glibc.send(fd, bytes, count, Int32(MSG_NOSIGNAL))
    }

    /// Gathers `count` buffers into one write.
    static func send(_ fd: Int32, _ iov: UnsafeMutablePointer<iovec>?, count: Int32) -> Int {
        var message = msghdr()
        message.msg_iov = iov
        message.msg_iovlen = Int(count)
        return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
    }
}
