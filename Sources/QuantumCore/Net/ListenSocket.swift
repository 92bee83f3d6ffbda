import CQuantumLinux
import Glibc

/// Creates listening TCP sockets (`SO_REUSEPORT`, non-blocking) and connected client sockets.
package enum Sockets {
    /// `exclusive`: without `SO_REUSEPORT`, so a second process cannot bind it too (the admin endpoint).
    package static func listen(_ address: SocketAddress, backlog: Int32 = 1024, exclusive: Bool = false) throws -> Int32 {
        let fd = try boundSocket(address, nonBlocking: true, reusePort: !exclusive)
        guard Glibc.listen(fd, backlog) == 0 else { let e = SystemError.last("listen \(address)"); close(fd); throw e }
        return fd
    }

    /// Fails with `EADDRINUSE` when another socket holds `address`. The loops' sockets share a
    /// port through `SO_REUSEPORT`, which would just as well let a second process (another
    /// Quantum started by mistake) bind it and silently take half the connections; a probe
    /// bound without it cannot share, so it finds any holder first (as Caddy refuses to start).
    package static func ensureFree(_ address: SocketAddress) throws {
        close(try boundSocket(address, nonBlocking: false, reusePort: false))
    }

    private static func boundSocket(_ address: SocketAddress, nonBlocking: Bool, reusePort: Bool) throws -> Int32 {
        let domain = address.family == .v4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if address.family == .v6 && !IPAddress.isV4Mapped(address.bytes) && address.bytes != [UInt8](repeating: 0, count: 16) {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw SystemError(operation: code == EADDRINUSE ? "bind \(address) (something else is listening there)" : "bind \(address)", code: code)
        }
        return fd
    }

    /// A listening Unix socket at `path`, readable and writable by its owner only. A socket file
    /// left by a process that is gone is replaced; one something still listens on is not.
    static func listenUnix(_ path: String, backlog: Int32 = 128) throws -> Int32 {
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw SystemError(operation: "bind \(path) (a file that is not a socket is there)", code: EEXIST) }
            if let probe = try? connectUnix(path) {
                close(probe)
                throw SystemError(operation: "bind \(path)", code: EADDRINUSE)
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        let previous = umask(0o177)  // created 0600: no window in which others may connect
        let rc = withUnixAddress(path) { bind(fd, $0, $1) }
        umask(previous)
        guard rc == 0 else { let e = SystemError.last("bind \(path)"); close(fd); throw e }
        guard Glibc.listen(fd, backlog) == 0 else { let e = SystemError.last("listen \(path)"); close(fd); unlink(path); throw e }
        return fd
    }

    /// A blocking Unix socket connected to `path` (the CLI's admin requests, the stale-file probe).
    package static func connectUnix(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError.last("socket") }
        guard withUnixAddress(path, { Glibc.connect(fd, $0, $1) }) == 0 else { let e = SystemError.last("connect \(path)"); close(fd); throw e }
        return fd
    }

    private static func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            let bytes = Array(path.utf8.prefix(buffer.count - 1))
            buffer.copyBytes(from: bytes)
        }
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
    }

    /// A non-blocking TCP socket connecting (or connected) to `host:port`: the first resolved
    /// address that accepts the attempt. Numeric addresses skip the resolver.
    static func connect(host: String, port: Int) throws(HTTPClientError) -> Int32 {
        if let address = SocketAddress(ip: host, port: port) {
            let domain = address.family == .v4 ? AF_INET : AF_INET6
            let fd = socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .connectFailed("socket: \(String(cString: strerror(cq_errno())))") }
            setNoDelay(fd)
            let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if rc == 0 || cq_errno() == EINPROGRESS { return fd }
            let why = String(cString: strerror(cq_errno()))
            close(fd)
            throw .connectFailed("\(address): \(why)")
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw .connectFailed("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(list) }
        var lastError = HTTPClientError.connectFailed("no address for \(host)")
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            setNoDelay(fd)
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 || cq_errno() == EINPROGRESS { return fd }
            lastError = .connectFailed("\(host):\(port): \(String(cString: strerror(cq_errno())))")
            close(fd)
        }
        throw lastError
    }

    /// The outcome of a non-blocking connect once the socket is writable: 0 or an errno.
    static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    package static func localAddress(_ fd: Int32) -> SocketAddress {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return SocketAddress(storage: storage)
    }

    /// TCP keep-alive probes after `seconds` idle, every `seconds` (Caddy's `keepalive_interval`).
    static func setKeepAlive(_ fd: Int32, seconds: Int32) {
        var one: Int32 = 1
        var s = max(1, seconds)
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &s, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &s, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
