import QuantumCore

/// The REST side of a sync server, as the client uses it (see `SyncAPI` for the server's
/// half). Every change carries `X-Client-Id`, so the server names this client as the source
/// of its broadcasts and the client can ignore its own operations when they come back.
public struct SyncRemote: Sendable {
    public let endpoint: SyncEndpoint
    public let clientID: String
    public let token: String?
    let http: HTTPClient
    /// How an https server is checked (the WebSocket uses it too).
    public let tls: TLSClientConfiguration

    /// - tls: for https servers; by default the system's trust roots.
    package init(endpoint: SyncEndpoint, clientID: String, token: String?, tls: TLSClientConfiguration = TLSClientConfiguration(),
                http: HTTPClient? = nil) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.token = token
        self.tls = tls
        var configuration = Self.configuration
        if endpoint.isTLS { configuration.tls = tls }
        self.http = http ?? HTTPClient(configuration: configuration)
    }

    /// Generous timeouts: a large download may be slow, but a dead server must not hang the client.
    package static var configuration: HTTPClient.Configuration {
        var c = HTTPClient.Configuration()
        c.responseHeaderTimeout = 30_000_000_000
        c.readTimeout = 60_000_000_000
        c.writeTimeout = 60_000_000_000
        return c
    }

    /// Headers every request carries (the WebSocket handshake too).
    public var commonHeaders: HTTPFields {
        var h = HTTPFields()
        h.add("Host", endpoint.hostHeader)
        h.add("X-Client-Id", clientID)
        if let token { h.add("Authorization", "Bearer \(token)") }
        return h
    }

    /// Everything on the server: its current seq and the metadata of every file and directory.
    public func list() async throws -> (seq: Int, files: [FileMetadata]) {
        let doc = try await json("GET", endpoint.apiTarget("list"))
        guard let seq = doc["seq"]?.intValue, let files = doc["files"]?.arrayValue else { throw SyncClientError.badResponse("list without seq and files") }
        return (seq, files.compactMap(FileMetadata.init(json:)))
    }

    /// One path's metadata; nil when the server has nothing there.
    public func metadata(_ path: String) async throws -> FileMetadata? {
        do {
            let doc = try await json("GET", endpoint.apiTarget("list") + "?path=" + QueryString.encode(path))
            return doc["files"]?.arrayValue?.compactMap(FileMetadata.init(json:)).first { $0.path == path }
        } catch let e as SyncClientError where e.status == 404 {
            return nil
        }
    }

    /// Streams a file's bytes to `sink`; returns the hash the server announced (its ETag).
    public func download(_ path: String, into sink: (_ chunk: [UInt8]) throws -> Void) async throws -> String? {
        let response = try await send("GET", endpoint.apiTarget("download/" + PathCodec.escapePath(path)))
        guard response.status == 200 else { throw await failure(response) }
        do {
            while let chunk = try await response.body.next() { try sink(chunk) }
        } catch {
            response.discard()
            throw error
        }
        return response.headers["etag"].map { String($0.trimmingOWS()).trimmingQuotes }
    }

    /// Uploads a whole file. With `ifMatch` the server only replaces a file that still has that
    /// hash (412 otherwise: someone else changed it since this client last synced). Returns
    /// what the server has now and the seq it logged the upload under.
    @discardableResult
    public func upload(_ path: String, file: String, ifMatch: String?,
                       progress: (@Sendable (Int) -> Void)? = nil) async throws -> (metadata: FileMetadata, seq: Int?) {
        var headers: [(String, String)] = [("Content-Type", "application/octet-stream")]
        if let ifMatch { headers.append(("If-Match", "\"\(ifMatch)\"")) }
        let body: RequestBody
        do { body = try RequestBody(contentsOfFile: file, progress: progress) } catch { throw SyncClientError.local("cannot read \(path): \(error)") }
        let doc = try await json("PUT", endpoint.apiTarget("upload/" + PathCodec.escapePath(path)), body: body, headers: headers)
        guard let meta = doc["metadata"].flatMap(FileMetadata.init(json:)) else { throw SyncClientError.badResponse("upload without metadata") }
        return (meta, doc["seq"]?.intValue)
    }

    /// Deletes a file (guarded by `ifMatch`) or a directory with its contents.
    public func delete(_ path: String, ifMatch: String?) async throws {
        _ = try await json("DELETE", endpoint.apiTarget("delete/" + PathCodec.escapePath(path)),
                           headers: ifMatch.map { [("If-Match", "\"\($0)\"")] } ?? [])
    }

    public func makeDirectory(_ path: String) async throws {
        _ = try await json("POST", endpoint.apiTarget("mkdir/" + PathCodec.escapePath(path)))
    }

    public func move(from: String, to: String) async throws {
        let body = JSONValue.object([("from", .string(from)), ("to", .string(to))]).serialized
        _ = try await json("POST", endpoint.apiTarget("move"), body: RequestBody(bytes: Array(body.utf8)), headers: [("Content-Type", "application/json")])
    }

    // MARK: - Plumbing

    private func send(_ method: String, _ target: String, body: RequestBody? = nil, headers: [(String, String)] = []) async throws -> ClientResponse {
        var fields = commonHeaders
        for (n, v) in headers { fields.add(n, v) }
        let request = ClientRequest(method: method, target: target, headers: fields, body: body)
        return try await http.execute(request, host: endpoint.host, port: endpoint.port)
    }

    private func json(_ method: String, _ target: String, body: RequestBody? = nil, headers: [(String, String)] = []) async throws -> JSONValue {
        let response = try await send(method, target, body: body, headers: headers)
        guard (200..<300).contains(response.status) else { throw await failure(response) }
        let bytes = try await response.body.collect(upTo: 256 << 20)
        do { return try JSONParser.parse(bytes) } catch { throw Self.notTheAPI(method, target, response, bytes) }
    }

    /// A 2xx answer that is not the API's JSON: most likely the URL is not a file_sync handler
    /// (a web site, or the handler's prefix left out). Says what came back.
    private static func notTheAPI(_ method: String, _ target: String, _ response: ClientResponse, _ bytes: [UInt8]) -> SyncClientError {
        let type = response.headers["content-type"] ?? "no Content-Type"
        var start = String(String.UnicodeScalarView(String(decoding: bytes.prefix(60), as: UTF8.self).unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7f ? " " : $0
        }))
        if bytes.count > 60 { start += "…" }
        return .badResponse("\(method) \(target) answered \(response.status) with \(type) (\(bytes.count) bytes: \"\(start)\")"
                            + ", not file_sync's JSON; is the URL the file_sync handler's, with its prefix?")
    }

    private func failure(_ response: ClientResponse) async -> SyncClientError {
        let text = (try? await response.body.collect(upTo: 64 * 1024)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return .http(status: response.status, message: String(text.trimmingOWS()))
    }
}

extension String {
    /// `"abc"` → `abc` (an ETag's quotes).
    var trimmingQuotes: String {
        count >= 2 && hasPrefix("\"") && hasSuffix("\"") ? String(dropFirst().dropLast()) : self
    }
}
