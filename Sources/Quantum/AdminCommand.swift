import Glibc
import QuantumCore

/// `reload` and `stop`: clients of a running instance's admin API, sending what Caddy's CLI
/// sends (so either CLI drives either server).
struct AdminCommand {
    let name: String
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void

    /// `POST /load` with the file's bytes as they are; `force` loads even an unchanged config.
    func reload(config: [UInt8], address: String?, force: Bool) throws -> Int32 {
        let target = try adminAddress(address, config: config)
        var headers = [("Content-Type", "application/json")]
        if force { headers.append(("Cache-Control", "must-revalidate")) }
        let (status, body) = try request("POST", "/load", to: target, headers: headers, body: config)
        guard status < 400 else { err("\(name): reload failed (HTTP \(status)): \(Self.message(body))"); return 1 }
        err("\(name): config reloaded through \(target)")
        return 0
    }

    /// `POST /stop`.
    func stop(config: [UInt8]?, address: String?) throws -> Int32 {
        let target = try adminAddress(address, config: config)
        let (status, body) = try request("POST", "/stop", to: target, headers: [], body: [])
        guard status < 400 else { err("\(name): stop failed (HTTP \(status)): \(Self.message(body))"); return 1 }
        return 0
    }

    /// `--address`, else the config's `admin.listen`, else `$CADDY_ADMIN`, else `localhost:2019`.
    func adminAddress(_ given: String?, config: [UInt8]?) throws -> String {
        if let given, !given.isEmpty { return given }
        if let config, let value = try? JSONParser.parse(config), case .string(let listen)? = value["admin"]?["listen"], !listen.isEmpty {
            return listen
        }
        return DataDirectory.environment("CADDY_ADMIN") ?? AdminConfig.defaultListen
    }

    /// The `error` of Caddy's error object, or the body as it is.
    static func message(_ body: [UInt8]) -> String {
        if let value = try? JSONParser.parse(body), case .string(let message)? = value["error"] { return message }
        return String(decoding: body, as: UTF8.self)
    }

    /// One HTTP/1.1 exchange over a fresh connection (closed after it), blocking, with a timeout.
    func request(_ method: String, _ path: String, to address: String, headers: [(String, String)],
                 body: [UInt8]) throws -> (status: Int, body: [UInt8]) {
        let fd: Int32
        var head: String
        switch try AdminConfig.endpoint(address) {
        case .tcp(let host, let socketAddress):
            fd = try connect(socketAddress)
            let hostHeader = AdminAccess.join(host.isEmpty ? socketAddress.host : host, socketAddress.port)
            head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nOrigin: http://\(hostHeader)\r\n"
        case .unix(let socketPath):
            do { fd = try Sockets.connectUnix(socketPath) } catch {
                throw AdminCommandError("cannot reach the admin API at \(address): \(error) (is the server running?)")
            }
            Self.setTimeouts(fd)
            // No host names a Unix socket: an empty Host, as RFC 9112 asks (and Caddy accepts).
            head = "\(method) \(path) HTTP/1.1\r\nHost: \r\n"
        }
        defer { close(fd) }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try send(fd, Array(head.utf8) + body)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { response += buffer[0..<n] } else if n == 0 || errno != EINTR { break }
        }
        guard let end = response.firstRange(of: Array("\r\n\r\n".utf8)) else { throw AdminCommandError("no answer from \(address)") }
        let statusLine = String(decoding: response[..<(response.firstRange(of: [13, 10])?.lowerBound ?? end.lowerBound)], as: UTF8.self)
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw AdminCommandError("a malformed answer from \(address)") }
        return (status, Array(response[end.upperBound...]))
    }

    private func connect(_ address: SocketAddress) throws -> Int32 {
        let fd = socket(address.family == .v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AdminCommandError("socket: \(String(cString: strerror(errno)))") }
        Self.setTimeouts(fd)
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw AdminCommandError("cannot reach the admin API at \(address): \(reason) (is the server running?)")
        }
        return fd
    }

    /// 30 s for each read and write.
    private static func setTimeouts(_ fd: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw AdminCommandError("sending to the admin API: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }
}

struct AdminCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
