import CQuantumLinux
import Glibc
import Synchronization

/// Opens WebSocket connections to servers, ws:// and wss://.
///
/// ```swift
/// let socket = try await WebSocketClient.connect(to: "ws://127.0.0.1:8080/echo")
/// try await socket.send(text: "hello")
/// let reply = await socket.receive()
/// await socket.close()
/// ```
public enum WebSocketClient {
    /// Connects and runs the opening handshake.
    ///
    /// - headers: extra request headers (`Origin`, `Authorization`, ...).
    /// - subprotocols: offered in this order; the server's choice is `socket.subprotocol`.
    /// - configuration: limits and timers; with `compression` set, permessage-deflate is offered.
    /// - loop: the event loop that carries the connection; a shared client loop by default.
    /// - timeout: for connecting and the handshake together.
    /// - tls: how a wss:// server is checked (trust roots, verification, SNI name).
    public static func connect(to url: String, headers: HTTPFields = HTTPFields(), subprotocols: [String] = [],
                               configuration: WebSocketConfiguration = WebSocketConfiguration(), timeout: Duration = .seconds(10),
                               tls: TLSClientConfiguration = TLSClientConfiguration()) async throws -> WebSocket {
        try await connect(to: url, headers: headers, subprotocols: subprotocols, configuration: configuration, loop: nil,
                          timeout: timeout, tls: tls)
    }

    /// The same, on a loop of the caller's (Quantum's own targets).
    package static func connect(to url: String, headers: HTTPFields = HTTPFields(), subprotocols: [String] = [],
                                configuration: WebSocketConfiguration = WebSocketConfiguration(),
                                loop: EventLoop?, timeout: Duration = .seconds(10),
                                tls: TLSClientConfiguration = TLSClientConfiguration()) async throws -> WebSocket {
        let target = try WebSocketURL(url)
        guard let loop = loop ?? sharedLoop else { throw WebSocketError.handshakeFailed("no event loop") }
        let fd: Int32
        do { fd = try Sockets.connect(host: target.host, port: target.port) } catch {
            throw WebSocketError.handshakeFailed("\(error)")
        }
        var wire = SocketTransport.Wire.plain
        if target.isTLS {
            do {
                guard let session = TLSSession(client: try TLSClientContext.shared(tls), host: target.host, fd: fd) else {
                    throw TLSClientError("cannot create a session")
                }
                wire = .tls(session)
            } catch {
                Glibc.close(fd)
                throw WebSocketError.handshakeFailed("\(error)")
            }
        }
        let key = WebSocketHandshake.makeKey()
        var offer: PerMessageDeflateParameters?
        var request = "GET \(target.pathAndQuery) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty { request += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        if let compression = configuration.compression {
            let o = PerMessageDeflateParameters.offer(compression)
            offer = o
            request += "Sec-WebSocket-Extensions: \(o.extensionValue.headerValue)\r\n"
        }
        for field in headers { request += "\(field.name): \(field.value)\r\n" }
        request += "\r\n"

        let connection = WebSocketClientConnection(fd: fd, loop: loop, request: Array(request.utf8), wire: wire)
        let head = try await connection.handshake(timeout: WebSocket.nanos(timeout))
        func fail(_ why: String) async -> WebSocketError {
            await loop.submit { connection.closeNow() }
            return WebSocketError.handshakeFailed(why)
        }
        guard head.status == 101 else { throw await fail("status \(head.status)") }
        guard head.headers.hasToken("websocket", in: "upgrade") else { throw await fail("no Upgrade: websocket") }
        guard head.headers.hasToken("upgrade", in: "connection") else { throw await fail("no Connection: upgrade") }
        guard head.headers["sec-websocket-accept"] == WebSocketHandshake.acceptValue(forKey: key) else {
            throw await fail("wrong Sec-WebSocket-Accept")
        }
        let chosen = head.headers["sec-websocket-protocol"]
        if let chosen, !subprotocols.contains(chosen) { throw await fail("server chose a subprotocol not offered: \(chosen)") }
        var deflate: PerMessageDeflateParameters?
        let extensionValues = head.headers.values("sec-websocket-extensions")
        if !extensionValues.isEmpty {
            guard let extensions = WebSocketExtension.parse(extensionValues) else { throw await fail("malformed Sec-WebSocket-Extensions") }
            for ext in extensions {
                guard ext.name == PerMessageDeflateParameters.name, let offer, deflate == nil,
                      let response = PerMessageDeflateParameters(ext, isOffer: false),
                      PerMessageDeflateParameters.accept(response: response, offered: offer) else {
                    throw await fail("unacceptable extension \(ext.headerValue)")
                }
                deflate = response
            }
        }
        let socket = WebSocket(transport: connection, role: .client, configuration: configuration,
                               compression: deflate, subprotocol: chosen)
        await loop.submit { socket.start() }
        return socket
    }

    /// A loop for clients that bring none, started on first use.
    package static let sharedLoop: EventLoop? = {
        signal(SIGPIPE, SIG_IGN)
        guard let loop = try? EventLoop(index: 0) else { return nil }
        loop.start()
        return loop
    }()
}

/// The parts of a ws:// or wss:// URL.
struct WebSocketURL: Equatable {
    var host: String
    var port: Int
    var pathAndQuery: String
    /// The `Host` header value (port only when not the scheme's default, IPv6 in brackets).
    var hostHeader: String
    /// wss://: TLS to the server.
    var isTLS: Bool

    init(_ url: String) throws(WebSocketError) {
        let lower = url.lowercased()
        if lower.hasPrefix("ws://") { isTLS = false } else if lower.hasPrefix("wss://") { isTLS = true } else {
            throw WebSocketError.invalidURL(url)
        }
        var rest = Substring(url.dropFirst(isTLS ? 6 : 5))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let slash = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<slash]
        let path = rest[slash...]
        pathAndQuery = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let split = HostPort.split(String(authority))
        guard !split.host.isEmpty else { throw WebSocketError.invalidURL(url) }
        host = split.host
        let defaultPort = isTLS ? 443 : 80
        if split.port.isEmpty {
            port = defaultPort
        } else {
            guard let p = Int(split.port), (1...65535).contains(p) else { throw WebSocketError.invalidURL(url) }
            port = p
        }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }
}
