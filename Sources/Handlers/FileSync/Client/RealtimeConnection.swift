import QuantumCore
import Synchronization

/// The client's WebSocket to the server's hub, kept open: connect, `Subscribe` with `since`
/// (the last seq the client applied), hand every message over as an event, send
/// `{"type":"Ping"}` heartbeats, and reconnect with exponential backoff when the connection
/// drops or goes silent. It only reads and forwards; the `SyncClient` applies, in order.
final class RealtimeConnection: Sendable {
    enum Event: Sendable {
        case subscribed(seq: Int, resync: Bool)
        case operation(LoggedOperation)
        case disconnected(String)
        case local([LocalChange])
        case stop
    }

    private let remote: SyncRemote
    private let pingNanos: UInt64
    private let firstBackoffNanos: UInt64
    private let maxBackoffNanos: UInt64
    private let since: @Sendable () async -> Int
    private let sink: AsyncStream<Event>.Continuation
    private let log: @Sendable (String) -> Void
    private let current = Mutex<WebSocket?>(nil)
    private let stopped = Atomic<Bool>(false)

    init(remote: SyncRemote, options: SyncClient.Options, since: @escaping @Sendable () async -> Int, sink: AsyncStream<Event>.Continuation) {
        self.remote = remote
        pingNanos = Self.nanos(options.pingInterval)
        firstBackoffNanos = Self.nanos(options.firstBackoff)
        maxBackoffNanos = max(Self.nanos(options.maxBackoff), Self.nanos(options.firstBackoff))
        self.since = since
        self.sink = sink
        log = options.log
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let (s, a) = d.components
        return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, a) / 1_000_000_000)
    }

    /// Connects and reconnects until `stop()`.
    func run() async {
        var backoff = firstBackoffNanos
        while !stopped.load(ordering: .relaxed) {
            var why = "connection closed"
            do {
                if try await session() { backoff = firstBackoffNanos }
            } catch {
                why = "\(error)"
            }
            if stopped.load(ordering: .relaxed) { break }
            sink.yield(.disconnected(why))
            log("sync: disconnected (\(why)); reconnecting in \(backoff / 1_000_000) ms")
            await sleep(backoff)
            backoff = min(backoff * 2, maxBackoffNanos)
        }
    }

    /// Closes the connection and ends `run()`.
    func stop() async {
        stopped.store(true, ordering: .relaxed)
        let socket = current.withLock { $0 }
        await socket?.close()
    }

    /// One connection, from handshake to close; true when it got as far as a subscription.
    private func session() async throws -> Bool {
        var headers = HTTPFields()
        for field in remote.commonHeaders where !field.name.equalsIgnoringASCIICase("host") { headers.add(field.name, field.value) }
        let socket = try await WebSocketClient.connect(to: remote.endpoint.webSocketURL, headers: headers, timeout: .seconds(10),
                                                       tls: remote.tls)
        current.withLock { $0 = socket }
        defer { current.withLock { $0 = nil } }
        if stopped.load(ordering: .relaxed) { await socket.close(); return false }
        let lastHeard = Atomic<UInt64>(SystemClock.monotonicNanos())
        let since = await self.since()
        let subscribe = JSONValue.object([("type", .string("Subscribe")), ("client_id", .string(remote.clientID)),
                                          ("since", .number(String(since)))])
        try await socket.send(text: subscribe.serialized)
        let heartbeat = Task { [pingNanos] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: pingNanos)
                if Task.isCancelled { return }
                // Silent for three heartbeats: the server (or the path to it) is gone.
                if SystemClock.monotonicNanos() &- lastHeard.load(ordering: .relaxed) > pingNanos * 3 {
                    await socket.close(code: .goingAway, reason: "no answer to heartbeats")
                    return
                }
                try? await socket.send(text: #"{"type":"Ping"}"#)
            }
        }
        defer { heartbeat.cancel() }
        var subscribed = false
        for await message in socket {
            lastHeard.store(SystemClock.monotonicNanos(), ordering: .relaxed)
            guard case .text(let text) = message, let doc = try? JSONParser.parse(text) else { continue }
            switch doc["type"]?.stringValue {
            case "Ack" where doc["for"]?.stringValue == "Subscribe":
                subscribed = true
                sink.yield(.subscribed(seq: doc["seq"]?.intValue ?? 0, resync: doc["resync"] == .bool(true)))
            case "FileOperation":
                if let op = LoggedOperation(json: doc) { sink.yield(.operation(op)) }
            case "Error":
                log("sync: server says: \(doc["message"]?.stringValue ?? text)")
            default:
                break  // Pong, other Acks
            }
        }
        return subscribed
    }

    /// Sleeps in short steps so `stop()` does not wait out a long backoff.
    private func sleep(_ nanos: UInt64) async {
        var left = nanos
        while left > 0 && !stopped.load(ordering: .relaxed) {
            let step = min(left, 100_000_000)
            try? await Task.sleep(nanoseconds: step)
            left -= step
        }
    }
}
