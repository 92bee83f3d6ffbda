/// Caddy's admin API on the admin endpoint: `/load`, `/config/[path]`, `/id/<id>/[path]`,
/// `/stop` and `/metrics`, answering as Caddy does — 200 with an empty body for a change, compact
/// JSON with an ETag for a read, `{"error":"..."}` with Caddy's status codes for a failure.
struct AdminAPI: Handler {
    let controller: ConfigController
    let gate: AdminGate
    /// What modules add (`/reverse_proxy/upstreams`).
    let routes: [AdminRoute]

    /// Caddy's cap on a request body.
    static let maxBody = 100 * 1024 * 1024

    nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        if let refusal = gate.refusal(request) { return Self.failure(refusal) }
        let path = request.path
        let logs = await controller.logs
        ProcessLog.write(logs, path == "/metrics" ? .debug : .info, logger: "admin.api", "received request", [
            "method": .string(request.method), "host": .string(request.host), "uri": .string(request.uri),
            "remote_ip": .string(request.connection.remoteHost), "remote_port": .string(String(request.connection.remoteAddress.port)),
            "headers": .fields(request.headers)])
        let response: Response
        do {
            response = try await route(request, path: path)
        } catch let error as AdminError {
            response = Self.failure(error)
        } catch let error as HTTPError {
            response = Self.failure(AdminError(error.status, error.message))
        }
        if let (handler, pattern) = endpoint(of: path) {
            AdminMetrics.shared.count(handler: handler, path: pattern, status: response.status, method: request.method)
        }
        return response
    }

    /// The handler label and path pattern Caddy counts a request to `path` under
    /// (`caddy_admin_http_requests_total`); nil for what its mux answers itself (404, redirects).
    private func endpoint(of path: String) -> (String, String)? {
        switch path {
        case "/load": return ("load", "/load")
        case "/stop": return ("admin", "/stop")
        case "/metrics": return ("metrics", "/metrics")
        default: break
        }
        if path.hasPrefix("/config/") { return ("admin", "/config/") }
        if path.hasPrefix("/id/") { return ("admin", "/id/") }
        if path.hasPrefix("/pki/") { return ("pki", "/pki/") }
        if let route = routes.first(where: { path == $0.path || path.hasPrefix($0.path + "/") }) {
            return (String(route.path.split(separator: "/").first ?? ""), route.path)
        }
        return nil
    }

    private nonisolated(nonsending) func route(_ request: Request, path: String) async throws -> Response {
        if path == "/load" { return try await load(request) }
        if path == "/stop" { return try await stop(request) }
        if path == "/metrics" { return await MetricsRegistry.shared.response() }  // any method, as promhttp
        if path == "/config" || path == "/id" {
            // Go's mux, in front of Caddy's API, sends a subtree's bare name to the subtree.
            return Response(status: 301, headers: HTTPFields([("Location", path + "/")]))
        }
        if path.hasPrefix("/config/") { return try await config(request, path: path) }
        if path.hasPrefix("/id/") {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[2].isEmpty else { throw AdminError(400, "request path is missing object ID") }
            let id = String(parts[2])
            guard let expanded = await controller.path(ofID: id) else { throw AdminError(404, "unknown object ID '\(id)'") }
            let rest = parts.dropFirst(3).joined(separator: "/")
            return try await config(request, path: rest.isEmpty ? expanded : expanded + "/" + rest)
        }
        if path.hasPrefix("/pki/") {
            return try AdminPKI.answer(request, path: path, config: await controller.runningConfig, workingDirectory: FileIO.currentDirectory())
        }
        if let route = routes.first(where: { path == $0.path || path.hasPrefix($0.path + "/") }) { return try await route.handle(request) }
        return Response.text("404 page not found\n", status: 404)  // as Go's mux answers in Caddy
    }

    // MARK: - Endpoints

    private nonisolated(nonsending) func load(_ request: Request) async throws -> Response {
        guard request.method == "POST" else { throw AdminError(405, "method not allowed") }
        var body = try await request.body.collect(upTo: Self.maxBody)
        if let type = request.headers["content-type"], !type.isEmpty {
            let media = type.split(separator: ";", maxSplits: 1)[0].trimmingOWS().asciiLowercased()
            if !media.hasSuffix("/json") {
                guard let slash = media.firstIndex(of: "/") else { throw AdminError(400, "malformed Content-Type") }
                let name = String(media[media.index(after: slash)...])
                guard let adapter = controller.adapters[name] else { throw AdminError(400, "unrecognized config adapter '\(name)'") }
                // Off the loops: adapting reads imported files and may take a while on a large input.
                let input = body
                do { body = try await BlockingPool.shared.run { try adapter(input) } } catch {
                    throw AdminError(400, "adapting config using \(name): \(error)")
                }
            }
        }
        try await controller.load(body, force: Self.forced(request))
        return Response(status: 200)
    }

    private nonisolated(nonsending) func config(_ request: Request, path: String) async throws -> Response {
        let method: ConfigDocument.Method
        switch request.method {
        case "GET":
            let (json, hash) = try await controller.read(path)
            var response = Response.text(json, contentType: "application/json")
            response.headers.set("Etag", "\"\(path) \(hash)\"")
            return response
        case "POST": method = .post
        case "PUT": method = .put
        case "PATCH": method = .patch
        case "DELETE": method = .delete
        default: throw AdminError(405, "method \(request.method) not allowed")
        }
        var value: JSONValue?
        if method != .delete {
            let type = request.headers["content-type"] ?? ""
            guard type.contains("/json") else { throw AdminError(400, "unacceptable content-type: \(type); 'application/json' required") }
            let body = try await request.body.collect(upTo: Self.maxBody)
            if !body.isEmpty {
                do { value = try JSONParser.parse(body) } catch { throw AdminError(400, "decoding request body: \(error)") }
            }
        }
        try await controller.change(method, at: path, body: value, ifMatch: request.headers["if-match"], force: Self.forced(request))
        return Response(status: 200)
    }

    private nonisolated(nonsending) func stop(_ request: Request) async throws -> Response {
        guard request.method == "POST" else { throw AdminError(405, "method not allowed") }
        let controller = self.controller
        ProcessLog.write(await controller.logs, .warn, logger: "admin.api", "exiting; byeee!! 👋")
        // After this answer has gone out.
        Task { try? await Task.sleep(nanoseconds: 100_000_000); controller.requestStop() }
        return Response(status: 200)
    }

    // MARK: - Answers

    /// `Cache-Control: must-revalidate` (`caddy reload --force`): load even an unchanged config.
    private static func forced(_ request: Request) -> Bool { request.headers["cache-control"] == "must-revalidate" }

    static func failure(_ error: AdminError) -> Response {
        Response.text(error.body, status: error.status, contentType: "application/json")
    }
}
