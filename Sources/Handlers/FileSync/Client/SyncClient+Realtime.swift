import QuantumCore

/// Realtime mode: one stream of events — server operations from `RealtimeConnection`, local
/// changes from `LocalWatcher` — applied one at a time by the actor.
extension SyncClient {
    /// Runs until `stop()` (or the task is cancelled). Starts by catching up: a full compare
    /// when this folder has no sync state yet, else a scan that sends what changed here while
    /// the client was not running (the server's side follows through `since`).
    public func runRealtime() async {
        guard events == nil else { options.log("sync: realtime mode is already running"); return }
        let (stream, sink) = AsyncStream.makeStream(of: RealtimeConnection.Event.self)
        events = sink
        let watcher = LocalWatcher(tree: tree) { sink.yield(.local($0)) }
        if watcher == nil { options.log("sync: cannot watch \(tree.root) (inotify); local changes are sent at the next start") }
        watcher?.start()
        defer { watcher?.stop() }
        do {
            if hasBase { await pushAllLocalChanges() } else { try await synchronize() }
        } catch {
            options.log("sync: initial compare failed (\(error)); retrying once connected")
            needsFullCompare = true
        }
        let connection = RealtimeConnection(remote: remote, options: options, since: { [weak self] in await self?.state.lastSeq ?? 0 }, sink: sink)
        self.connection = connection
        let runner = Task { await connection.run() }
        await withTaskCancellationHandler {
            for await event in stream {
                if case .stop = event { break }
                await handle(event)
                if needsFullCompare && isSubscribed {
                    needsFullCompare = false
                    do { try await synchronize() } catch {
                        options.log("sync: full compare failed: \(error)")
                        needsFullCompare = true
                    }
                }
            }
        } onCancel: {
            sink.yield(.stop)
        }
        await connection.stop()
        await runner.value
        isSubscribed = false
        events = nil
        self.connection = nil
        saveState()
    }

    /// Ends `runRealtime()` after the event being applied.
    public func stop() {
        events?.yield(.stop)
    }

    private func handle(_ event: RealtimeConnection.Event) async {
        switch event {
        case .subscribed(let seq, let resync):
            isSubscribed = true
            subscriptions += 1
            if seq < state.lastSeq {
                // The server's log restarted (a new root, its state removed): our seq and our base
                // mean nothing there. Compare as on a first run, so a file missing there is
                // uploaded, not taken for a delete.
                options.log("sync: the server is at seq \(seq), behind this client's \(state.lastSeq); comparing everything afresh")
                state.files.removeAll()
                state.lastSeq = 0
                saveState()
                needsFullCompare = true
            } else if resync {
                // The server's history no longer reaches back to our seq: compare everything.
                options.log("sync: server history does not reach seq \(state.lastSeq) (now \(seq)); comparing everything")
                needsFullCompare = true
            }
        case .operation(let op):
            await applyRemote(op)
        case .local(let changes):
            await applyLocal(changes)
        case .disconnected:
            isSubscribed = false
        case .stop:
            break
        }
    }
}
