import QuantumCore
import Synchronization

/// The WebSocket side of `file_sync` (the design's `WsManager`): who is connected, what each
/// subscribed to, and fan-out of operations.
///
/// Broadcasts never wait for a client: each socket's outbound queue is bounded (see
/// `WebSocket.broadcast`); a client that fell behind far enough to miss a message is
/// disconnected (1013, try again later) and catches up with `since` when it reconnects.
/// Clients silent for three heartbeat intervals are dropped as stale.
public final class SyncHub: Sendable {
    final class Client: Sendable {
        let socket: WebSocket
        let state = Mutex<(id: String?, paths: [String], lastSeen: UInt64)>((nil, [], 0))
        init(socket: WebSocket) {
            self.socket = socket
            state.withLock { $0.lastSeen = SystemClock.monotonicNanos() }
        }
        var id: String? { state.withLock { $0.id } }
        func wants(_ op: LoggedOperation) -> Bool {
            let paths = state.withLock { $0.paths }
            return paths.isEmpty || op.operation.paths.contains { p in paths.contains { Glob.match($0, p) || p.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") } }
        }
    }

    private let clients = Mutex<[ObjectIdentifier: Client]>([:])
    let heartbeatNanos: UInt64
    /// Operations broadcast since this hub began (`quantum_file_sync_operations_total`).
    let operations = Atomic<Int>(0)

    public init(heartbeatNanos: UInt64) { self.heartbeatNanos = heartbeatNanos }

    /// Connected sockets that subscribed.
    public var subscriberCount: Int { clients.withLock { $0.values.filter { $0.id != nil }.count } }

    func add(_ client: Client) { clients.withLock { $0[ObjectIdentifier(client)] = client } }
    func remove(_ client: Client) { _ = clients.withLock { $0.removeValue(forKey: ObjectIdentifier(client)) } }

    /// Sends `op` to every subscriber that wants it, in one frame per loop.
    public func broadcast(_ op: LoggedOperation) {
        operations.add(1, ordering: .relaxed)
        let all = clients.withLock { Array($0.values) }
        var targets: [WebSocket] = []
        for c in all where c.id != nil && c.wants(op) {
            if c.socket.missed > 0 {
                // It already missed one: its view is incomplete. Let it reconnect and catch up.
                Task { await c.socket.close(code: WebSocketCloseCode(1013), reason: "too far behind; reconnect with since") }
                continue
            }
            targets.append(c.socket)
        }
        WebSocket.broadcast(.text(op.json.serialized), to: targets)
    }

    /// Closes clients not heard from for three heartbeats.
    func dropStale(now: UInt64) {
        let limit = heartbeatNanos * 3
        let stale = clients.withLock { $0.values.filter { now &- $0.state.withLock { $0.lastSeen } > limit } }
        for c in stale { Task { await c.socket.close(code: .policyViolation, reason: "no heartbeat") } }
    }
}
