import Synchronization

extension WebSocket {
    /// Sends `message` to every socket in `sockets` and returns at once: each socket gets it on
    /// its own loop, with one hop per loop. The frame is built once for all the sockets that can
    /// share it (server side, uncompressed).
    ///
    /// Policy for slow peers: a broadcast never waits and never queues without bound. A socket
    /// whose peer already has 256 KiB or more unread misses the message (`missed` counts them),
    /// so one stalled reader cannot hold back or bloat the others.
    public static func broadcast(_ message: WebSocketMessage, to sockets: [WebSocket]) {
        guard !sockets.isEmpty else { return }
        var shared = WebSocketEngine(role: .server)
        let frame = shared.encodeMessage(message)
        var byLoop: [ObjectIdentifier: (EventLoop, [WebSocket])] = [:]
        for s in sockets { byLoop[ObjectIdentifier(s.loop), default: (s.loop, [])].1.append(s) }
        for (_, (loop, group)) in byLoop {
            if loop.inEventLoop {
                for s in group { s.deliverBroadcast(message, frame) }
            } else {
                loop.execute { for s in group { s.deliverBroadcast(message, frame) } }
            }
        }
    }

    /// Loop thread: queues one broadcast message unless this peer is too far behind.
    func deliverBroadcast(_ message: WebSocketMessage, _ frame: [UInt8]) {
        guard isOpenForSending else { return }
        if transport.pendingWriteBytes >= WebSocketWatermark.high {
            broadcastMisses.add(1, ordering: .relaxed)
            return
        }
        if compression != nil || isClient { sendNowait(message) } else { transport.write(frame) }
    }

    /// Broadcast messages this socket missed because its peer was too slow.
    public var missed: Int { broadcastMisses.load(ordering: .relaxed) }
}

/// A set of sockets to broadcast to (a room, a topic), safe to use from any thread.
package final class WebSocketGroup: Sendable {
    private let members = Mutex<[ObjectIdentifier: WebSocket]>([:])

    public init() {}

    public func add(_ socket: WebSocket) { members.withLock { $0[ObjectIdentifier(socket)] = socket } }
    public func remove(_ socket: WebSocket) { _ = members.withLock { $0.removeValue(forKey: ObjectIdentifier(socket)) } }
    public var count: Int { members.withLock { $0.count } }
    public var sockets: [WebSocket] { members.withLock { Array($0.values) } }

    /// Sends to every member (see `WebSocket.broadcast` for the slow-peer policy).
    public func broadcast(_ message: WebSocketMessage) { WebSocket.broadcast(message, to: sockets) }
}
