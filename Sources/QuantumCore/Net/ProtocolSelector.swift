/// A server connection until its protocol is known, so no protocol object exists before the
/// choice is made: over TLS the handshake's ALPN decides (`h2`, or HTTP/1.1); in the clear with
/// h2c allowed, the first bytes do (HTTP/2's client preface, or anything else). The chosen
/// protocol's connection then takes the socket with what was read meanwhile. HTTP/1.1 in the
/// clear without h2c needs no choosing: the listener starts it at once. A protocol added later
/// (one that needs its own ALPN) is one more case here, not a change to HTTP/1.
///
/// `@unchecked Sendable`: loop-confined, like the connections it turns into.
final class ProtocolSelector: LoopIOHandler, ServerConnection, @unchecked Sendable {
    let io: SocketTransport
    let runtimes: RuntimeSlot
    let owner: ConnectionRegistry
    private let accepted: UInt64
    @exclusivity(unchecked) private var info: ConnectionInfo
    /// Plaintext read before the choice (the start of the first request, or the preface).
    @exclusivity(unchecked) private var initial: [UInt8] = []
    @exclusivity(unchecked) private var decided = false

    init(io: SocketTransport, runtimes: RuntimeSlot, info: ConnectionInfo, owner: ConnectionRegistry) {
        self.io = io
        self.runtimes = runtimes
        self.info = info
        self.owner = owner
        accepted = io.loop.now
    }

    /// Whether a connection's protocol must be chosen first: not for HTTP/1.1 in the clear
    /// without h2c, which starts at once.
    static func needed(tls: Bool, protocols: HTTPProtocols) -> Bool { tls || protocols.h2c }

    func readable(_ events: IOEvents) {
        guard !decided, !io.isReleased else { return }
        // Over TLS, reading stops with the handshake: what follows is the protocol's to read.
        let end = io.read(events, keepReading: { !decided && !(io.tls?.handshakeDone ?? false) }) { bytes in
            initial.append(contentsOf: bytes)
            if io.tls == nil { choosePlaintext() }
        }
        if !decided, let tls = io.tls, let negotiated = tls.info {
            info = info.with(tls: negotiated)
            choose(http2: negotiated.applicationProtocol == "h2")
        }
        if decided { return }
        switch end {
        case .drained, .stopped, .budgetSpent: flush()  // the handshake's replies
        case .endOfInput, .failed: close()
        }
    }

    /// In the clear: HTTP/2 once the whole preface is here, HTTP/1.1 as soon as it cannot be.
    private func choosePlaintext() {
        let preface = HTTP2Upgrade.preface
        let n = min(initial.count, preface.count)
        if !initial.prefix(n).elementsEqual(preface.prefix(n)) { choose(http2: false) }
        else if n == preface.count { choose(http2: true) }
    }

    private func choose(http2: Bool) {
        decided = true
        if http2 {
            guard let h2 = HTTP2Connection(io: io, runtimes: runtimes, info: info, owner: owner) else { return close() }
            handOver(io, to: h2, owner: owner)
            h2.start(initial: initial, upgrade: nil)
        } else {
            let h1 = HTTP1Connection(io: io, runtimes: runtimes, info: info, owner: owner, since: accepted)
            handOver(io, to: h1, owner: owner)
            h1.start(initial: initial)
            if io.pendingBytes > 0 { h1.scheduleFlush() }  // the handshake's last flight (TLS 1.2)
        }
        initial = []
    }

    // MARK: - Writing the handshake

    /// Written at once: nothing else is queued while the handshake runs.
    private func flush() {
        guard !io.isReleased else { return }
        if case .failed = io.write() { return close() }
        io.want(reading: true)
    }

    func writable() { flush() }

    // MARK: - Lifecycle

    /// Nothing is in flight before a protocol is chosen: the connection just closes.
    func beginShutdown() { close() }

    func close() {
        guard !io.isReleased else { return }
        decided = true
        io.release()
        owner.remove(self)
    }

    /// A handshake (or a first line) that takes longer than a request head may is dropped.
    func tick(now: UInt64) {
        guard !decided, let t = runtimes.current.limits.readHeaderTimeout, now &- accepted > t else { return }
        close()
    }
}
