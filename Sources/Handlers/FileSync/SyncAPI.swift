import Glibc
import QuantumCore
import QuantumStaticFiles

/// The REST endpoints of `file_sync` (paths after the handler's prefix):
///
/// | request | answer |
/// |---|---|
/// | `GET /api/list[?path=P][&since=SEQ]` | `{"seq":N,"files":[metadata...]}`; with `since`, `{"seq":N,"operations":[...]}` (or the files with `"resync":true` when the history no longer reaches back) |
/// | `GET /api/download/PATH` | the file (Range, `ETag: "<sha256>"`, If-None-Match) |
/// | `PUT /api/upload/PATH` | body streamed to a temp file, fsync'd, renamed; `If-Match: <sha256>` guards updates (412) → `{"seq":N,"metadata":{...}}`, 201 when created |
/// | `DELETE /api/delete/PATH` | optional `If-Match` → `{"seq":N}` |
/// | `POST /api/mkdir/PATH` | → `{"seq":N,"metadata":{...}}` (201), 200 with `"seq":null` when it existed |
/// | `POST /api/move` | body `{"from":"a","to":"b"}` → `{"seq":N}` |
///
/// `X-Client-Id` names the client that made a change (its `source_client` in broadcasts).
struct SyncAPI {
    let service: SyncService

    nonisolated(nonsending) func respond(_ endpoint: Substring, _ request: Request) async throws -> Response? {
        let source = request.headers["x-client-id"]
        func path(after prefix: String) throws -> SyncPath {
            guard let p = SyncPath(escaped: String(endpoint.dropFirst(prefix.count))) else { throw HTTPError(400, "invalid path") }
            if service.store.ignore.ignores(p) { throw HTTPError(403, "path is ignored: \(p)") }
            return p
        }
        switch (request.method, endpoint) {
        case ("GET", "list"), ("HEAD", "list"):
            return try await list(request)
        case ("GET", _) where endpoint.hasPrefix("download/"), ("HEAD", _) where endpoint.hasPrefix("download/"):
            return try await download(try path(after: "download/"), request)
        case ("PUT", _) where endpoint.hasPrefix("upload/"):
            return try await upload(try path(after: "upload/"), request, source: source)
        case ("DELETE", _) where endpoint.hasPrefix("delete/"):
            do {
                let op = try await service.delete(try path(after: "delete/"), ifMatch: request.headers["if-match"], source: source)
                return json(.object([("seq", .number(String(op.seq)))]))
            } catch let error as HTTPError where error.status == 412 {
                return preconditionFailed(error)
            }
        case ("POST", _) where endpoint.hasPrefix("mkdir/"):
            let target = try path(after: "mkdir/")
            guard let op = try await service.makeDirectory(target, source: source) else {
                return json(.object([("seq", .null)]))
            }
            return json(.object([("seq", .number(String(op.seq))), ("metadata", metadataJSON(op))]), status: 201)
        case ("POST", "move"):
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let doc = try? JSONParser.parse(body), let from = doc["from"]?.stringValue.flatMap({ SyncPath($0) }),
                  let to = doc["to"]?.stringValue.flatMap({ SyncPath($0) }), !from.isRoot, !to.isRoot else {
                throw HTTPError(400, #"expected {"from": "path", "to": "path"}"#)
            }
            if service.store.ignore.ignores(from) || service.store.ignore.ignores(to) { throw HTTPError(403, "path is ignored") }
            let op = try await service.move(from: from, to: to, source: source)
            return json(.object([("seq", .number(String(op.seq)))]))
        case (_, "list"), (_, "move"):
            throw HTTPError(405, "method not allowed")
        case _ where ["download/", "upload/", "delete/", "mkdir/"].contains(where: { endpoint.hasPrefix($0) }):
            throw HTTPError(405, "method not allowed")
        default:
            return nil
        }
    }

    private func metadataJSON(_ op: LoggedOperation) -> JSONValue {
        switch op.operation {
        case .create(let m), .update(let m): m.json
        default: .null
        }
    }

    private nonisolated(nonsending) func list(_ request: Request) async throws -> Response {
        // From the raw query, strictly: `%ff` must not become U+FFFD and name another path.
        let rawPath = request.query.split(separator: "&").first { $0.hasPrefix("path=") }?.dropFirst(5)
        let under = try rawPath.map { value -> SyncPath in
            guard let decoded = PathCodec.unescapeUTF8(String(value), plusAsSpace: true), let p = SyncPath(decoded) else {
                throw HTTPError(400, "invalid path")
            }
            return p
        } ?? .root
        let seq = service.log.lastSeq
        if let sinceText = request.queryValues("since").first {
            guard let since = Int(sinceText), since >= 0 else { throw HTTPError(400, "since must be a sequence number") }
            if let ops = service.log.since(since) {
                let wanted = ops.filter { op in op.operation.paths.contains { SyncPath($0)?.isWithin(under) ?? false } }
                return json(.object([("seq", .number(String(seq))), ("operations", .array(wanted.map(\.json)))]))
            }
            let files = try await service.blocking { try self.service.store.list(under: under) }
            return json(.object([("seq", .number(String(seq))), ("resync", .bool(true)), ("files", .array(files.map(\.json)))]))
        }
        let files = try await service.blocking { try self.service.store.list(under: under) }
        return json(.object([("seq", .number(String(seq))), ("files", .array(files.map(\.json)))]))
    }

    private nonisolated(nonsending) func download(_ path: SyncPath, _ request: Request) async throws -> Response {
        let store = service.store
        let (meta, file) = try await service.blocking { () throws -> (FileMetadata, OpenFile) in
            guard let m = store.metadata(path) else { throw HTTPError(404, "no such file: \(path)") }
            if m.isDirectory { throw HTTPError(400, "\(path) is a directory; use /api/list") }
            return (m, try store.openFile(path))
        }
        let etag = "\"\(meta.hash)\""
        var response = Response(status: 200)
        response.headers.add("ETag", etag)
        response.headers.add("Accept-Ranges", "bytes")
        response.headers.add("Content-Type", "application/octet-stream")
        response.headers.add("Content-Disposition", "attachment; filename*=UTF-8''\(PathCodec.escapePath(path.name))")
        let conditions = Preconditions(etag: etag, mtimeSeconds: nil)
        switch conditions.evaluate(request) {
        case .notModified: response.status = 304; return response
        case .preconditionFailed: return Response(status: 412)
        case .proceed: break
        }
        var range = 0..<meta.size
        if let header = request.headers["range"], conditions.rangeAllowed(request) {
            switch ByteRanges.parse(header, size: meta.size) {
            case .ranges(let ranges) where ranges.count == 1:
                range = ranges[0]
                response.status = 206
                response.headers.add("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(meta.size)")
            case .unsatisfiable:
                var r = Response(status: 416)
                r.headers.add("Content-Range", "bytes */\(meta.size)")
                return r
            default: break  // several ranges: the whole file
            }
        }
        response.body = range.isEmpty ? .empty : .file(FileRegion(file: file, offset: range.lowerBound, length: range.count))
        return response
    }

    private nonisolated(nonsending) func upload(_ path: SyncPath, _ request: Request, source: String?) async throws -> Response {
        try service.requireUploads()
        if path.isRoot { throw HTTPError(400, "upload needs a file path") }
        let limit = service.maxUploadSize
        if let limit, let declared = request.body.knownLength, declared > limit { throw HTTPError(413, "upload larger than max_upload_size") }
        let address = request.connection.remoteHost
        if let wait = service.limiter?.admitUpload(from: address) { return SyncRateLimiter.tooManyRequests(retryAfter: wait, "upload bytes") }
        let store = service.store
        let upload = try await service.blocking { try store.beginUpload() }
        do {
            var received = 0
            while let chunk = try await request.body.next() {
                received += chunk.count
                if let limit, received > limit { throw HTTPError(413, "upload larger than max_upload_size") }
                try await service.blocking { try upload.write(chunk) }
                // Over `upload_bytes_per_second`: read nothing more for a while (TCP slows the sender).
                if let pause = service.limiter?.consumeUpload(chunk.count, from: address) { try await Task.sleep(for: pause) }
            }
        } catch {
            upload.discard()
            throw error
        }
        let ifMatch = request.headers["if-match"]
        let op: SyncOperation
        do {
            op = try await service.blocking { try store.commit(upload, to: path, ifMatch: ifMatch) }
        } catch is CancellationError {
            upload.discard()  // the request went away before its commit ran
            throw CancellationError()
        } catch let error as HTTPError where error.status == 412 {
            return preconditionFailed(error)
        }
        let logged = service.record([op], source: source)[0]
        var created = false
        if case .create = op { created = true }
        return json(.object([("seq", .number(String(logged.seq))), ("metadata", metadataJSON(logged))]), status: created ? 201 : 200)
    }

    /// A failed `If-Match` answers 412 with the file's current hash (JSON `error` and `hash`,
    /// and the `ETag`), so a client can tell what it conflicts with.
    private func preconditionFailed(_ error: HTTPError) -> Response {
        let hash = error.placeholders[SyncStore.currentHashPlaceholder] ?? ""
        var response = json(.object([("error", .string(error.message)), ("hash", .string(hash))]), status: 412)
        if !hash.isEmpty { response.headers.set("ETag", "\"\(hash)\"") }
        return response
    }

    private func json(_ value: JSONValue, status: Int = 200) -> Response {
        Response.text(value.serialized, status: status, contentType: "application/json")
    }
}
