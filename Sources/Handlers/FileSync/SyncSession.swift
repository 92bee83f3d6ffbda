import QuantumCore

/// One client's WebSocket conversation (messages are JSON objects with a `type`):
///
/// - `{"type":"Subscribe","client_id":"laptop","since":41,"paths":["docs/*"]}` → `{"type":"Ack","for":"Subscribe","seq":N}`
///   then every missed operation after `since` (or `"resync":true` in the Ack when the history
///   no longer reaches back: compare with `/api/list`). `paths` globs limit what it receives.
/// - Then `{"type":"FileOperation","seq":N,"operation":{...},"source_client":"..."}` broadcasts.
/// - `{"type":"Ping"}` → `{"type":"Pong"}`; any message counts as a heartbeat.
/// - `{"type":"FileOperation","operation":{"Delete":{"path":"a"}}}` (also `Move`, and `Create`
///   of a directory) from a subscribed client applies it → `{"type":"Ack","for":"FileOperation","seq":N}`.
/// - Anything else → `{"type":"Error","message":"..."}`; the connection stays open.
/// - Messages beyond `rate_limit` → an Error, then the connection is closed with 1008.
struct SyncSession {
    let service: SyncService
    /// The client's address, for `rate_limit`.
    let address: String

    func run(_ socket: WebSocket) async {
        let client = SyncHub.Client(socket: socket)
        service.hub.add(client)
        defer { service.hub.remove(client) }
        for await message in socket {
            client.state.withLock { $0.lastSeen = SystemClock.monotonicNanos() }
            if service.limiter?.admitMessage(from: address) != nil {
                await send(socket, error: "rate limit exceeded: too many messages from this address")
                await socket.close(code: .policyViolation, reason: "rate limit exceeded")
                return
            }
            guard case .text(let text) = message else {
                await send(socket, error: "binary messages are not part of the protocol")
                continue
            }
            guard let doc = try? JSONParser.parse(text), case .object = doc else {
                await send(socket, error: "invalid JSON")
                continue
            }
            switch doc["type"]?.stringValue {
            case "Subscribe": await subscribe(client, doc)
            case "Ping": await send(socket, .object([("type", .string("Pong"))]))
            case "Pong": break
            case "FileOperation": await apply(client, doc)
            case let other?: await send(socket, error: "unknown message type \"\(other)\"")
            case nil: await send(socket, error: "a message needs a \"type\"")
            }
        }
    }

    private func subscribe(_ client: SyncHub.Client, _ doc: JSONValue) async {
        guard let id = doc["client_id"]?.stringValue, !id.isEmpty, id.utf8.count <= 256 else {
            await send(client.socket, error: "Subscribe needs a client_id")
            return
        }
        let paths = doc["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
        // Subscribed first, so nothing logged from here on is missed; the catch-up below may
        // repeat an operation the client then also gets live (seq tells them apart).
        client.state.withLock { $0.id = id; $0.paths = paths }
        let seq = service.log.lastSeq
        var missed: [LoggedOperation] = []
        var resync = false
        if let since = doc["since"]?.intValue {
            if let ops = service.log.since(since) { missed = ops.filter { $0.seq <= seq && client.wants($0) } } else { resync = true }
        }
        var ack: [(String, JSONValue)] = [("type", .string("Ack")), ("for", .string("Subscribe")), ("client_id", .string(id)),
                                          ("seq", .number(String(seq)))]
        if resync { ack.append(("resync", .bool(true))) }
        await send(client.socket, .object(ack))
        for op in missed { await send(client.socket, op.json) }
    }

    private func apply(_ client: SyncHub.Client, _ doc: JSONValue) async {
        guard let id = client.id else { await send(client.socket, error: "not subscribed: send Subscribe first"); return }
        guard let operation = doc["operation"].flatMap(SyncOperation.init(json:)) else {
            await send(client.socket, error: "unknown operation")
            return
        }
        do {
            let logged: LoggedOperation?
            switch operation {
            case .delete(let path):
                guard let p = SyncPath(path) else { throw HTTPError(400, "invalid path") }
                logged = try await service.delete(p, ifMatch: nil, source: id)
            case .move(let from, let to):
                guard let f = SyncPath(from), let t = SyncPath(to) else { throw HTTPError(400, "invalid path") }
                logged = try await service.move(from: f, to: t, source: id)
            case .create(let m) where m.isDirectory:
                guard let p = SyncPath(m.path) else { throw HTTPError(400, "invalid path") }
                logged = try await service.makeDirectory(p, source: id)
            default:
                throw HTTPError(400, "file contents go through PUT /api/upload")
            }
            await send(client.socket, .object([("type", .string("Ack")), ("for", .string("FileOperation")),
                                               ("seq", logged.map { .number(String($0.seq)) } ?? .null)]))
        } catch let e as HTTPError {
            await send(client.socket, error: e.message.isEmpty ? "failed with status \(e.status)" : e.message)
        } catch {
            await send(client.socket, error: "\(error)")
        }
    }

    private func send(_ socket: WebSocket, _ value: JSONValue) async {
        try? await socket.send(text: value.serialized)
    }

    private func send(_ socket: WebSocket, error message: String) async {
        await send(socket, .object([("type", .string("Error")), ("message", .string(message))]))
    }
}
