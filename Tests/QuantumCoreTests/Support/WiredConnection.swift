import CQuantumLinux
import Foundation
@testable import QuantumCore
import XCTest

/// A server connection on a `MemoryWire`: bytes in, bytes out, no socket — the way NIO's
/// `EmbeddedChannel` tests a protocol. The connection runs on a real loop (its task, timers and
/// flushes are the loop's), so every step hops there; `tick(after:)` plays the clock forward.
final class WiredConnection: @unchecked Sendable {
    let group: EventLoopGroup
    let loop: EventLoop
    let wire = MemoryWire()
    let registry = ConnectionRegistry()

    /// A connection to a one-server config around `routes`, as its listener would make it:
    /// HTTP/1 at once, or a `ProtocolSelector` first when h2c is served.
    init(routes: String, serverFields: String = "", window: Int? = nil) async throws {
        let extra = serverFields.isEmpty ? "" : ", " + serverFields
        let json = #"{"apps": {"http": {"servers": {"srv0": {"listen": ["127.0.0.1:0"], "routes": \#(routes)\#(extra)}}}}}"#
        let loaded = try ConfigLoader.load(json: json, registry: coreTestRegistry())
        let server = try XCTUnwrap(loaded.config.apps.http?.servers["srv0"])
        let runtime = ServerRuntime(name: "srv0", limits: server.limits, routes: server.routes,
                                    protocols: HTTPProtocols(server.protocols))
        group = try EventLoopGroup(loopCount: 1)
        loop = group.loops[0]
        let (loop, wire, registry) = (loop, wire, registry)
        wire.window = window
        await loop.submit {
            let io = SocketTransport(memory: wire, loop: loop)
            let info = ConnectionInfo(remoteAddress: SocketAddress(ip: "127.0.0.1", port: 50000)!,
                                      localAddress: SocketAddress(ip: "127.0.0.1", port: 80)!)
            let slot = RuntimeSlot(runtime, loop: loop)
            if ProtocolSelector.needed(tls: false, protocols: runtime.protocols) {
                let selector = ProtocolSelector(io: io, runtimes: slot, info: info, owner: registry)
                try? io.register(selector)
                registry.add(selector)
            } else {
                let connection = HTTP1Connection(io: io, runtimes: slot, info: info, owner: registry, since: loop.now)
                try? io.register(connection)
                registry.add(connection)
                connection.start()
            }
        }
    }

    deinit { group.shutdown() }

    // MARK: - The peer

    func send(_ text: String) async { await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async {
        let wire = self.wire
        await loop.submit { wire.send(bytes) }
    }

    /// The peer closes its side.
    func endInput() async {
        let wire = self.wire
        await loop.submit { wire.endInput() }
    }

    /// The peer reads `bytes` more (nil: everything).
    func open(window bytes: Int?) async {
        let wire = self.wire
        await loop.submit { wire.open(window: bytes) }
    }

    /// Everything written so far once `done` holds for it (or 5 s passed), taken from the wire.
    func output(until done: @escaping @Sendable ([UInt8]) -> Bool) async -> [UInt8] {
        let wire = self.wire
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if await loop.submit({ done(wire.output) }) { break }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return await loop.submit { wire.takeOutput() }
    }

    /// The output as text once it holds `count` complete responses (by their status lines and
    /// bodies as `count` occurrences of `marker`).
    func text(untilContains marker: String, count: Int = 1) async -> String {
        let bytes = await output { String(decoding: $0, as: UTF8.self).components(separatedBy: marker).count > count }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits (up to 5 s) for something of the wire to hold.
    func eventually(_ check: @escaping @Sendable (MemoryWire) -> Bool) async -> Bool {
        let wire = self.wire
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if await loop.submit({ check(wire) }) { return true }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return false
    }

    /// A look at the wire on its loop.
    func inspect<T: Sendable>(_ body: @escaping @Sendable (MemoryWire) -> T) async -> T {
        let wire = self.wire
        return await loop.submit { body(wire) }
    }

    /// The connection's once-a-second timekeeping, `seconds` from now.
    func tick(after seconds: Double) async {
        let (loop, registry) = (loop, registry)
        await loop.submit {
            let now = loop.now &+ UInt64(seconds * 1e9)
            for connection in registry.connections.values { (connection as? any LoopIOHandler)?.tick(now: now) }
        }
    }
}
