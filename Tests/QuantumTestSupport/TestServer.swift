import Glibc
import Quantum
import XCTest

/// A Quantum server started in-process from a JSON config, on ports the OS picks.
public final class TestServer: @unchecked Sendable {
    package let app: App
    package let group: EventLoopGroup

    /// Starts `json`; use `"listen": ["127.0.0.1:0"]` so the OS picks a free port.
    public static func start(_ json: String, registry: ModuleRegistry = StandardModules.registry, loops: Int = 2) async throws -> TestServer {
        let loaded = try ConfigLoader.load(json: json, registry: registry)
        let group = try EventLoopGroup(loopCount: loops)
        do {
            return TestServer(app: try await App.start(loaded, on: group), group: group)
        } catch {
            group.shutdown()
            throw error
        }
    }

    /// A one-server config around `routes` (a JSON array) and extra server fields.
    public static func start(routes: String, serverFields: String = "", errors: String? = nil, registry: ModuleRegistry = StandardModules.registry) async throws -> TestServer {
        let extra = serverFields.isEmpty ? "" : ", " + serverFields
        let errorsJSON = errors.map { ", \"errors\": {\"routes\": \($0)}" } ?? ""
        return try await start("""
        {"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": \(routes)\(errorsJSON)\(extra)}}}}}
        """, registry: registry)
    }

    private init(app: App, group: EventLoopGroup) {
        self.app = app
        self.group = group
    }

    /// The first port of the first server.
    public var port: Int { app.servers[0].listeners[0].port }

    public func stop() async {
        await app.stop(graceNanos: 1_000_000_000)
        group.shutdown()
    }
}

/// A blocking TCP client for raw HTTP bytes, with a timeout on every read.
public final class RawClient {
    public let fd: Int32

    public init(port: Int, host: String = "127.0.0.1") throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc: Int32
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            inet_pton(AF_INET6, host, &addr.sin6_addr)
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            inet_pton(AF_INET, host, &addr.sin_addr)
            rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        if rc != 0 { close(fd); throw SystemError(operation: "connect", code: errno) }
    }

    deinit { close(fd) }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            off += n
        }
    }

    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until the peer closes or `timeout` seconds pass without data.
    public func readAll(timeout: Int = 5) -> [UInt8] {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Reads one complete response (Content-Length, chunked, or until close).
    public func readResponse(timeout: Int = 5, isHead: Bool = false) -> HTTPTestResponse? {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        while true {
            if let (response, used) = HTTPTestResponse.parse(pending, isHead: isHead) {
                pending.removeFirst(used)
                return response
            }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &buf, buf.count)
            if n <= 0 {
                if let (response, used) = HTTPTestResponse.parse(pending, isHead: isHead, atEOF: true) {
                    pending.removeFirst(used)
                    return response
                }
                return nil
            }
            pending += buf[0..<n]
        }
    }

    /// True when the server closed the connection (EOF within `timeout` seconds, no data).
    public func isClosedByPeer(timeout: Int = 5) -> Bool {
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var b: UInt8 = 0
        return read(fd, &b, 1) == 0
    }

    private var pending: [UInt8] = []
}

/// A parsed HTTP/1 response for assertions.
public struct HTTPTestResponse {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// Parses one response from `bytes`; nil when incomplete.
    public static func parse(_ bytes: [UInt8], isHead: Bool = false, atEOF: Bool = false) -> (HTTPTestResponse, Int)? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes[...]) else { return nil }
        let headText = String(decoding: bytes[..<headEnd], as: UTF8.self)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), String(line[line.index(after: c)...]).trimmingCharacters(in: " "))
        }
        var r = HTTPTestResponse(status: status, headers: headers, body: [])
        var i = headEnd + 4
        if isHead || status == 204 || status == 304 || status < 200 { return (r, i) }
        if let cl = r.header("content-length"), let n = Int(cl) {
            guard bytes.count - i >= n else { return nil }
            r.body = Array(bytes[i..<i + n])
            return (r, i + n)
        }
        if r.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                guard let lineEnd = find([13, 10], in: bytes[i...]) else { return nil }
                let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { return nil }
                i = lineEnd + 2
                if size == 0 {
                    guard let end = find([13, 10], in: bytes[i...]) else { return nil }
                    return (r, end + 2)
                }
                guard bytes.count - i >= size + 2 else { return nil }
                r.body += bytes[i..<i + size]
                i += size + 2
            }
        }
        guard atEOF else { return nil }
        r.body = Array(bytes[i...])
        return (r, bytes.count)
    }

    static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// Starts a program with its standard output on a pipe; returns its pid and the pipe's read end.
///
/// Uses `posix_spawnp`: forking this multi-threaded test process and then allocating in the
/// child can deadlock on a lock another thread held.
public func spawnProcess(_ executable: String, _ arguments: [String]) throws -> (pid: pid_t, stdout: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SystemError(operation: "pipe", code: errno) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    let env: [UnsafeMutablePointer<CChar>?] = testEnvironment().map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + env { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, executable, &actions, nil, argv, env)
    posix_spawn_file_actions_destroy(&actions)
    close(fds[1])
    guard rc == 0 else { close(fds[0]); throw SystemError(operation: "posix_spawnp \(executable)", code: rc) }
    return (pid, fds[0])
}

/// The environment programs started by tests get: this process's, with the admin API of a
/// `quantum run` on a port of its own (not the shared localhost:2019) and its autosave in a
/// scratch folder rather than the user's ~/.config.
public func testEnvironment() -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["CADDY_ADMIN"] = "127.0.0.1:0"
    environment["XDG_CONFIG_HOME"] = NSTemporaryDirectory() + "quantum-test-config"
    return environment
}

/// Runs a program and returns its exit status and standard output (for curl and friends).
///
/// The child is killed after `timeout` seconds.
public func runProcess(_ executable: String, _ arguments: [String], timeout: Int = 20) -> (status: Int32, output: String) {
    guard let (pid, fd) = try? spawnProcess(executable, arguments) else { return (127, "") }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    let deadline = time(nil) + timeout
    var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let remaining = Int32(max(0, deadline - time(nil)) * 1000)
        if poll(&pfd, 1, remaining) <= 0 { kill(pid, SIGKILL); break }
        let n = read(fd, &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    close(fd)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, String(decoding: out, as: UTF8.self))
}

/// Runs a request through a compiled route chain in memory (no sockets).
public func respond(_ chain: Next, _ request: Request) async throws -> Response {
    try await chain(request, Context())
}

/// The body bytes of an in-memory response (streams are collected).
public func bodyText(_ response: Response) async throws -> String {
    switch response.body {
    case .empty: return ""
    case .bytes(let b): return String(decoding: b, as: UTF8.self)
    case .file(let region):
        return String(decoding: try region.file.read(offset: region.offset, count: region.length), as: UTF8.self)
    case .stream(_, let producer):
        let sink = CollectingWriter()
        try await producer(sink)
        return String(decoding: sink.bytes, as: UTF8.self)
    }
}

final class CollectingWriter: ResponseBodyWriter, @unchecked Sendable {
    var bytes: [UInt8] = []
    func write(_ chunk: [UInt8]) async throws { bytes += chunk }
}

/// A TCP port nothing listens on right now (bind to 0, read it back, release it).
public func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw XCTSkip("cannot bind a probe socket") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
