import Glibc
import QuantumCore

/// `file_server`: static files with Caddy's fields and HTTP semantics (validators,
/// conditional requests, ranges, precompressed sidecars, directory listings).
///
/// Disk access happens on the blocking pool; what it found is kept per event loop for one
/// second, so hot files are answered on the synchronous fast path, small ones from memory and
/// large ones with `sendfile`.
public struct FileServer: HandlerModule, SynchronousHandler {
    public static let moduleID = "http.handlers.file_server"

    public var root: Template?
    public var hide: [String]?
    public var indexNames: [String]?
    public var browse: BrowseConfig?
    public var canonicalURIs: Bool?
    package var statusCode: WeakString?
    public var passThru: Bool?
    public var precompressed: [String: JSONValue]?
    public var precompressedOrder: [String]?
    public var fs: String?
    public var etagFileExtensions: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case root, hide, indexNames = "index_names", browse, canonicalURIs = "canonical_uris", statusCode = "status_code"
        case passThru = "pass_thru", precompressed, precompressedOrder = "precompressed_order", fs
        case etagFileExtensions = "etag_file_extensions"
    }

    static let encodingExtensions = ["br": ".br", "zstd": ".zst", "gzip": ".gz"]
    static let smallFileLimit = 64 * 1024

    let cache = FileCache()
    private var hidden = HidePatterns([])
    private var encodings: [String] = []
    private var workingDirectory = "."

    public init(root: String? = nil, browse: Bool = false) {
        self.root = root.map(Template.init)
        self.browse = browse ? BrowseConfig() : nil
    }

    public mutating func provision(_ context: ProvisionContext) throws {
        workingDirectory = context.workingDirectory
        var patterns = hide ?? []
        if let config = context.configFile { patterns.append(config) }
        hidden = HidePatterns(patterns, relativeTo: workingDirectory)
        let configured = (precompressed ?? [:]).keys
        for name in configured where Self.encodingExtensions[name] == nil {
            throw ConfigError(path: "", "unknown precompressed encoding \"\(name)\"; known: br, gzip, zstd")
        }
        encodings = (precompressedOrder ?? ["br", "zstd", "gzip"]).filter { configured.contains($0) }
        if let fs, !fs.isEmpty { throw ConfigError(path: "", "unknown file system \"\(fs)\"; only the local disk is supported") }
        if let exts = etagFileExtensions, !exts.isEmpty { throw ConfigError(path: "", "etag_file_extensions is not supported yet") }
        if browse?.templateFile != nil { throw ConfigError(path: "", "browse.template_file is not supported yet") }
        if let s = statusCode?.value, Template(s).isConstant, Int(s) == nil {
            throw ConfigError(path: "", "invalid status_code \"\(s)\"")
        }
    }

    // MARK: - Handler

    public nonisolated(nonsending) func handle(_ request: Request, context: Context, next: Next) async throws -> Response {
        let known = KnownFiles(cache: cache, loop: context.loop)
        return try await resume(request, context, next, known: known, from: step(request, context, known))
    }

    /// Answers from what the cache knows; a lookup it lacks leaves the rest to `resume`, which
    /// starts with that lookup (the decision is not made twice).
    public func respondSynchronously(_ request: Request, context: Context, next: SyncNext) throws -> SyncResult {
        let known = KnownFiles(cache: cache, loop: context.loop)
        let first = step(request, context, known)
        switch first {
        case .respond(let response): return .response(response)
        case .next: return try next(request, context)
        case .fail(let error): throw error
        case .needEntry, .needListing:
            let next = next.async
            return .suspended(Resumption { try await self.resume(request, context, next, known: known, from: first) })
        }
    }

    /// Carries out `step`'s decisions, looking entries up off the loop, until one answers.
    nonisolated(nonsending) private func resume(_ request: Request, _ context: Context, _ next: Next, known: KnownFiles,
                                                from first: Step) async throws -> Response {
        var known = known, decision = first
        for _ in 0..<32 {
            switch decision {
            case .respond(let response): return response
            case .next: return try await next(request, context)
            case .fail(let error): throw error
            case .needEntry(let path):
                let root = rootDirectory(request, context)
                let entry = try await BlockingPool.shared.run { FileEntry.load(path: path, root: root, smallFileLimit: Self.smallFileLimit) }
                known.local[path] = entry
                cache.store(entry, for: path, loop: context.loop)
            case .needListing(let path):
                let root = rootDirectory(request, context)
                let items = try await BlockingPool.shared.run { DirectoryItem.list(path, root: root) }
                known.listings[path] = .some(items)
                cache.storeListing(items, for: path, loop: context.loop)
            }
            decision = step(request, context, known)
        }
        throw HTTPError(500, "file_server: too many lookups")
    }

    /// `pass_thru` hands over to `next` and returns its answer as it is.
    public var passesResponsesThrough: Bool { true }

    // MARK: - Deciding

    enum Step: Sendable {
        case respond(Response)
        case next
        case fail(HTTPError)
        case needEntry(String)
        case needListing(String)
    }

    /// What the file system entries looked up so far say; asks for the next lookup it needs.
    struct KnownFiles: Sendable {
        let cache: FileCache
        let loop: EventLoop?
        var local: [String: FileEntry] = [:]
        var listings: [String: [DirectoryItem]?] = [:]

        func entry(_ path: String) -> FileEntry? { local[path] ?? cache.entry(path, loop: loop) }
        func listing(_ path: String) -> [DirectoryItem]?? { listings[path] ?? cache.listing(path, loop: loop) }
    }

    func rootDirectory(_ request: Request, _ context: Context) -> String {
        var root = root?.render(request, context) ?? context.vars["root"] ?? ""
        if root.isEmpty { root = workingDirectory }
        if !root.hasPrefix("/") { root = workingDirectory + "/" + root }
        return root
    }

    func step(_ request: Request, _ context: Context, _ known: KnownFiles) -> Step {
        guard let decoded = SafePath.decode(request.rawPath) else { return .fail(HTTPError(400, "invalid path")) }
        let root = rootDirectory(request, context)
        let clean = PathCodec.clean(decoded)
        let path = SafePath.join(root, clean)
        if hidden.matches(path) { return notFound() }
        guard let entry = known.entry(path) else { return .needEntry(path) }
        let canonical = (canonicalURIs ?? true) && request.uri == request.originalURI
        switch entry {
        case .missing: return notFound()
        case .forbidden: return .fail(HTTPError(403))
        case .directory:
            if canonical && !request.rawPath.hasSuffix("/") { return redirect(request, to: request.rawPath + "/") }
            for name in indexNames ?? ["index.html", "index.txt"] {
                let candidate = SafePath.join(path, name)
                if hidden.matches(candidate) { continue }
                guard let e = known.entry(candidate) else { return .needEntry(candidate) }
                if case .file(let info) = e { return serve(info, request, context, known) }
            }
            guard let browse else { return notFound() }
            guard request.method == "GET" || request.method == "HEAD" || isErrorContext(context) else { return methodNotAllowed() }
            guard let listed = known.listing(path) else { return .needListing(path) }
            guard let items = listed else { return .fail(HTTPError(403)) }
            let visible = items.filter { !hidden.matches(SafePath.join(path, $0.name)) }
            return .respond(listingResponse(DirectoryListing(path: clean, items: visible, request: request, config: browse), request, context))
        case .file(let info):
            if canonical && request.rawPath.hasSuffix("/") && request.rawPath != "/" {
                return redirect(request, to: String(request.rawPath.dropLast()))
            }
            return serve(info, request, context, known)
        }
    }

    private func notFound() -> Step { passThru == true ? .next : .fail(HTTPError(404)) }

    private func methodNotAllowed() -> Step {
        var r = Response(status: 405)
        r.headers.add("Allow", "GET, HEAD")
        return .respond(r)
    }

    private func isErrorContext(_ context: Context) -> Bool { context.placeholders["http.error.status_code"] != nil }

    private func redirect(_ request: Request, to path: String) -> Step {
        var target = path
        while target.hasPrefix("//") { target.removeFirst() }  // no protocol-relative open redirects
        if !request.query.isEmpty { target += "?" + request.query }
        var r = Response(status: 308)
        r.headers.add("Location", target)
        return .respond(r)
    }

    /// The status for a successful answer: `status_code`, else the error's in error routes, else 200.
    private func successStatus(_ request: Request, _ context: Context) -> Int {
        if let statusCode, let code = Int(Template(statusCode.value).render(request, context)) { return code }
        if let e = context.placeholders["http.error.status_code"], let code = Int(e) { return code }
        return 200
    }

    // MARK: - Serving a file

    private func serve(_ original: FileInfo, _ request: Request, _ context: Context, _ known: KnownFiles) -> Step {
        let inErrorContext = isErrorContext(context)
        guard request.method == "GET" || request.method == "HEAD" || inErrorContext else { return methodNotAllowed() }
        var info = original
        var contentEncoding: String?
        for encoding in Encodings.preferred(request.headers.values("accept-encoding"), among: encodings) {
            let sidecar = info.path + Self.encodingExtensions[encoding]!
            if hidden.matches(sidecar) { continue }
            guard let e = known.entry(sidecar) else { return .needEntry(sidecar) }
            if case .file(let s) = e { info = s; contentEncoding = encoding; break }
        }
        var headers = HTTPFields()
        if let type = MIMETypes.type(forPath: original.path) { headers.add("Content-Type", type) }
        if let contentEncoding { headers.add("Content-Encoding", contentEncoding) }
        if !encodings.isEmpty { headers.add("Vary", "Accept-Encoding") }
        let etag = info.etag
        if let etag { headers.add("Etag", etag) }
        let mtime = info.mtimeSeconds > 1 ? info.mtimeSeconds : nil
        if let mtime { headers.add("Last-Modified", HTTPDate.format(epochSeconds: mtime)) }
        let conditions = Preconditions(etag: etag, mtimeSeconds: mtime)
        if !inErrorContext {
            switch conditions.evaluate(request) {
            case .notModified:
                headers.remove("Content-Type")
                headers.remove("Content-Encoding")
                if etag != nil { headers.remove("Last-Modified") }
                return .respond(Response(status: 304, headers: headers))
            case .preconditionFailed:
                return .respond(Response(status: 412))
            case .proceed: break
            }
        }
        headers.add("Accept-Ranges", "bytes")
        let status = successStatus(request, context)
        if status == 200, request.method == "GET", let range = request.headers["range"], conditions.rangeAllowed(request) {
            switch ByteRanges.parse(range, size: info.size) {
            case .full: break
            case .unsatisfiable:
                var r = Response(status: 416)
                r.headers.add("Content-Range", "bytes */\(info.size)")
                return .respond(r)
            case .ranges(let ranges) where ranges.count == 1:
                let r = ranges[0]
                headers.add("Content-Range", "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(info.size)")
                return .respond(Response(status: 206, headers: headers, body: info.body(r)))
            case .ranges(let ranges):
                return .respond(Multipart.response(info, ranges: ranges, contentType: headers["content-type"], headers: headers))
            }
        }
        return .respond(Response(status: status, headers: headers, body: info.body(0..<info.size)))
    }

    private func listingResponse(_ listing: DirectoryListing, _ request: Request, _ context: Context) -> Response {
        let wantsJSON = request.headers.values("accept").contains { $0.contains("application/json") }
        var r = wantsJSON
            ? Response.text(listing.json(), contentType: "application/json")
            : Response.text(listing.html(), contentType: "text/html; charset=utf-8")
        r.status = successStatus(request, context)
        return r
    }
}
