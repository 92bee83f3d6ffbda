import QuantumCore
import Synchronization

/// What one synced directory has, shared by every `file_sync` handler that names it — also
/// across config reloads, so WebSocket clients connected before a reload keep getting the
/// operations made after it. The last handler to let go stops its watcher.
final class SyncRoot: Sendable {
    let store: SyncStore
    let log: OperationLog
    let hub: SyncHub
    private let watcher: DiskWatcher?
    private let heartbeat: LoopTimerBox
    private let users = Atomic<Int>(0)

    private static let all = Mutex<[String: SyncRoot]>([:])

    private init(store: SyncStore, log: OperationLog, hub: SyncHub, watch: Bool) {
        self.store = store
        self.log = log
        self.hub = hub
        heartbeat = LoopTimerBox()
        watcher = watch ? DiskWatcher(store: store) { [log, hub] ops in
            for op in ops { hub.broadcast(log.append(op, source: nil)) }
        } : nil
    }

    /// The shared root for `path` (absolute), made and started on first use.
    static func acquire(path: String, ignore: IgnoreRules, history: Int, heartbeatNanos: UInt64, watch: Bool) throws -> SyncRoot {
        try all.withLock { roots in
            if let existing = roots[path] {
                existing.users.add(1, ordering: .relaxed)
                return existing
            }
            let store = try SyncStore(root: path, ignore: ignore)
            let missed = store.resume()
            let root = SyncRoot(store: store, log: OperationLog(directory: store.stateDirectory, capacity: history),
                                hub: SyncHub(heartbeatNanos: heartbeatNanos), watch: watch)
            for op in missed { root.hub.broadcast(root.log.append(op, source: nil)) }
            root.users.add(1, ordering: .relaxed)
            root.watcher?.start()
            root.heartbeat.start(every: heartbeatNanos) { [hub = root.hub, store] in
                hub.dropStale(now: SystemClock.monotonicNanos())
                Task { try? await BlockingPool.shared.run { store.saveIndex() } }
            }
            roots[path] = root
            return root
        }
    }

    /// `quantum_file_sync_clients` and `quantum_file_sync_operations_total`, by synced root.
    static func metrics() -> [MetricFamily] {
        let roots = all.withLock { Array($0.values) }
        var clients = MetricFamily("quantum_file_sync_clients", .gauge, help: "WebSocket clients subscribed to a synced folder.")
        var operations = MetricFamily("quantum_file_sync_operations_total", .counter,
                                      help: "File operations logged and broadcast for a synced folder.")
        for root in roots {
            clients.samples.append(.init([("root", root.store.root)], Double(root.hub.subscriberCount)))
            operations.samples.append(.init([("root", root.store.root)], Double(root.hub.operations.load(ordering: .relaxed))))
        }
        return [clients, operations]
    }

    /// One handler is done with this root.
    func release() {
        let remaining = SyncRoot.all.withLock { roots -> Int in
            let n = users.subtract(1, ordering: .relaxed).newValue
            if n == 0 { roots[store.root] = nil }
            return n
        }
        if remaining == 0 {
            watcher?.stop()
            heartbeat.stop()
            store.saveIndex()
        }
    }
}

/// A repeating timer on the shared client loop that can be stopped.
final class LoopTimerBox: Sendable {
    private let stopped = Atomic<Bool>(false)

    func start(every nanos: UInt64, _ body: @escaping @Sendable () -> Void) {
        guard let loop = HTTPClient.defaultLoop else { return }
        schedule(on: loop, every: nanos, body)
    }

    private func schedule(on loop: EventLoop, every nanos: UInt64, _ body: @escaping @Sendable () -> Void) {
        loop.schedule(afterNanoseconds: nanos) { [self] in
            guard !stopped.load(ordering: .relaxed) else { return }
            body()
            schedule(on: loop, every: nanos, body)
        }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }
}
