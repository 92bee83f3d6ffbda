import CQuantumLinux
import Glibc
import QuantumCore

/// `start`: `run` in the background, returning once the server serves — or with the reason it
/// could not, as `caddy start` does. The child (in its own session, so the terminal's signals
/// stay with the shell) proves it started by connecting back to a one-use pingback socket with
/// the token it read from its standard input; a child that exits first failed.
struct StartCommand {
    let name: String
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void

    /// Starts `run` with `runArguments` (the flags `run` takes).
    func start(runArguments: [String]) throws -> Int32 {
        let listener = try Pingback.listen()
        defer { close(listener.fd) }
        let token = Pingback.makeToken()
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw AdminCommandError("pipe: \(String(cString: strerror(errno)))") }
        let arguments = [Self.executable(), "run", "--pingback", "127.0.0.1:\(listener.port)"] + runArguments
        let pid: pid_t
        do {
            pid = try Self.spawn(arguments, stdin: pipeFDs[0])
        } catch {
            close(pipeFDs[0]); close(pipeFDs[1])
            throw error
        }
        close(pipeFDs[0])
        _ = token.withUnsafeBytes { write(pipeFDs[1], $0.baseAddress, $0.count) }
        close(pipeFDs[1])

        while true {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                err("\(name): the server did not start (exit status \((status >> 8) & 0xff)); its messages are above")
                return 1
            }
            if let received = Pingback.accept(listener.fd, waitingMillis: 100), received == token {
                out("Successfully started Quantum (pid=\(pid)) - Quantum is running in the background")
                return 0
            }
        }
    }

    /// This program's own path (`/proc/self/exe`), so the child is the same build.
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// Spawns `arguments` in a new session with `stdin` as its standard input and no other
    /// descriptor of this process (a pipe it kept would keep its starter's readers waiting).
    private static func spawn(_ arguments: [String], stdin: Int32) throws -> pid_t {
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = cq_spawn_detached(arguments[0], argv, environ, stdin, &pid)
        guard rc == 0 else { throw AdminCommandError("starting \(arguments[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}

/// The one-use socket a background server reports its start on (`run --pingback ADDR`).
enum Pingback {
    static func makeToken() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return Array(Digest.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }).utf8)
    }

    /// A listening socket on 127.0.0.1 with a port the kernel picks.
    static func listen() throws -> (fd: Int32, port: Int) {
        let fd = try Sockets.listen(SocketAddress(ip: "127.0.0.1", port: 0)!, backlog: 1, exclusive: true)
        return (fd, Sockets.localAddress(fd).port)
    }

    /// What one connection sent (up to 256 bytes), when one comes within `waitingMillis`.
    static func accept(_ fd: Int32, waitingMillis: Int32) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, waitingMillis) == 1 else { return nil }
        let connection = Glibc.accept(fd, nil, nil)
        guard connection >= 0 else { return nil }
        defer { close(connection) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while received.count < 256 {
            let n = read(connection, &buffer, buffer.count)
            if n <= 0 { break }
            received += buffer[..<n]
        }
        return received
    }

    /// The token on standard input (the parent writes it, then closes the pipe).
    static func readToken() -> [UInt8] {
        var token: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while token.count < 256 {
            let n = read(0, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            token += buffer[..<n]
        }
        return token
    }

    /// Tells the parent at `address` that the server serves.
    static func confirm(_ token: [UInt8], to address: String) throws {
        let split = HostPort.split(address)
        guard let port = Int(split.port), let target = SocketAddress(ip: split.host, port: port) else {
            throw AdminCommandError("--pingback needs HOST:PORT, not \(address)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw AdminCommandError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard target.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 else {
            throw AdminCommandError("pingback to \(address): \(String(cString: strerror(errno)))")
        }
        _ = token.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
