import QuantumCore

/// `php_fastcgi`: `reverse_proxy` over the fastcgi transport, with the routes a PHP app needs
/// (the directory-index redirect and the try_files rewrite), as Caddy 2.6.2 expands it.
enum PHPFastCGISyntax {
    static func parse(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let userMatcher = try h.extractMatcherSet()
        h.d.next()
        var d = Dispenser(h.d.nextSegment())
        var transport: [(String, JSONValue?)] = [("protocol", .string("fastcgi"))]
        var env: [(String, JSONValue)] = []
        var extensions = [".php"], indexFile = "index.php", tryFiles: [String] = []
        func dropLine(_ d: inout Dispenser, _ args: Int) { for _ in 0...args { d.delete() } }
        while d.next() {
            while d.nextBlock(0) {
                if d.nesting != 1 { continue }
                switch d.val {
                case "root":
                    guard d.nextArg() else { throw d.argErr() }
                    transport.append(("root", .string(d.val)))
                    dropLine(&d, 1)
                case "split":
                    extensions = d.remainingArgs()
                    dropLine(&d, extensions.count)
                    if extensions.isEmpty { throw d.argErr() }
                case "env":
                    let args = d.remainingArgs()
                    dropLine(&d, args.count)
                    if args.count != 2 { throw d.argErr() }
                    env.removeAll { $0.0 == args[0] }
                    env.append((args[0], .string(args[1])))
                case "index":
                    let args = d.remainingArgs()
                    dropLine(&d, args.count)
                    if args.count != 1 { throw d.argErr() }
                    indexFile = args[0]
                case "try_files":
                    let args = d.remainingArgs()
                    dropLine(&d, args.count)
                    if args.isEmpty { throw d.argErr() }
                    tryFiles = args
                case "resolve_root_symlink":
                    let args = d.remainingArgs()
                    dropLine(&d, args.count)
                    transport.append(("resolve_root_symlink", .bool(true)))
                case "dial_timeout", "read_timeout", "write_timeout":
                    let key = d.val
                    transport.append((key, try d.durationArg()))
                    dropLine(&d, 1)
                case "capture_stderr":
                    let args = d.remainingArgs()
                    dropLine(&d, args.count)
                    transport.append(("capture_stderr", .bool(true)))
                default:
                    continue
                }
            }
        }
        d.reset()
        if !env.isEmpty { transport.append(("env", .object(env.sorted { $0.0 < $1.0 }))) }
        transport.append(("split_path", .strings(extensions)))

        var routes: [Route] = []
        if indexFile != "off" {
            let dirIndex = "{http.request.uri.path}/" + indexFile
            if tryFiles.isEmpty { tryFiles = ["{http.request.uri.path}", dirIndex, indexFile] }
            do {  // Caddy 2.6.2 always adds the directory redirect when there is an index file.
                routes.append(Route(
                    match: [.object([("file", .object([("try_files", .strings([dirIndex]))])), ("not", .array([.object([("path", .strings(["*/"]))])]))])],
                    handle: [.object([("handler", .string("static_response")), ("status_code", .int(308)),
                                      ("headers", .object([("Location", .strings(["{http.request.orig_uri.path}/"]))]))])]))
            }
            routes.append(Route(
                match: [.object([("file", .object([("try_files", .strings(tryFiles)), ("split_path", .strings(extensions))]))])],
                handle: [.object([("handler", .string("rewrite")), ("uri", .string("{http.matchers.file.relative}"))])]))
        }
        var sub = Helper(d: d, state: h.state, matcherDefs: h.matcherDefs, parentBlock: h.parentBlock)
        let proxy = try ReverseProxySyntax.parse(&sub, presets: .init(transport: .object(transport)))
        routes.append(Route(match: [.object([("path", .strings(extensions.map { "*" + $0 }))])], handle: [proxy]))
        if let userMatcher {
            return [ConfigValue("route", .route(Route(match: [userMatcher], handle: [Subroute(routes: routes).handlerJSON])))]
        }
        return [ConfigValue("route", .routes(routes))]
    }
}

/// `forward_auth`: ask an auth service first (a GET with the original method and URI in
/// headers); on 2xx copy the named response headers onto the request and go on, otherwise
/// answer with the auth service's response.
enum ForwardAuthSyntax {
    static func parse(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let userMatcher = try h.extractMatcherSet()
        h.d.next()
        var d = Dispenser(h.d.nextSegment())
        var uri: String?
        var copies: [(String, String)] = []
        while d.next() {
            while d.nextBlock(0) {
                if d.nesting != 1 { continue }
                switch d.val {
                case "uri":
                    guard d.nextArg() else { throw d.argErr() }
                    if uri != nil { throw d.err("the 'uri' subdirective can be given only once") }
                    uri = d.val
                    d.delete()
                    d.delete()
                case "copy_headers":
                    var args = d.remainingArgs()
                    var hadBlock = false
                    let level = d.nesting
                    while d.nextBlock(level) {
                        hadBlock = true
                        args.append(d.val)
                    }
                    for _ in 0...args.count { d.delete() }
                    if hadBlock { d.delete(); d.delete() }
                    for field in args {
                        let parts = field.split(separator: ">", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                        let pair = parts.count == 2 ? (parts[0], parts[1]) : (field, field)
                        copies.removeAll { $0.0 == pair.0 }
                        copies.append(pair)
                    }
                    if copies.isEmpty { throw d.argErr() }
                default:
                    continue
                }
            }
        }
        d.reset()
        guard let uri, !uri.isEmpty else { throw d.err("the 'uri' subdirective is required") }
        var set: [(String, JSONValue)] = []
        for (from, to) in copies {
            let name = HTTPFields.canonicalName(to)
            set.removeAll { $0.0 == name }
            set.append((name, .strings(["{http.reverse_proxy.header.\(HTTPFields.canonicalName(from))}"])))
        }
        let copyRoute = Route(handle: [.object([("handler", .string("headers")), ("request", .object([("set", .object(set.sorted { $0.0 < $1.0 }))]))])])
        let good = JSONValue.object([("match", .object([("status_code", .array([.int(2)]))])), ("routes", .array([copyRoute.json]))])
        let presets = ReverseProxySyntax.Presets(
            requestOps: .object([("set", .object([("X-Forwarded-Method", .strings(["{http.request.method}"])), ("X-Forwarded-Uri", .strings(["{http.request.uri}"]))]))]),
            rewrite: [("method", .string("GET")), ("uri", .string(uri))],
            handleResponse: [good])
        var sub = Helper(d: d, state: h.state, matcherDefs: h.matcherDefs, parentBlock: h.parentBlock)
        let proxy = try ReverseProxySyntax.parse(&sub, presets: presets)
        return [ConfigValue("route", .route(Route(match: userMatcher.map { [$0] } ?? [], handle: [proxy])))]
    }
}

/// `acme_server { ca ID }`: Caddy 2.6.2 reads only `ca` (it adds that CA to the PKI app); other
/// subdirectives of later Caddy versions are ignored with a warning, as 2.6.2 ignores them.
enum AcmeServerSyntax {
    static func parse(_ h: inout Helper) throws -> [ConfigValue] {
        guard h.d.next() else { throw h.d.argErr() }
        let matcher = try h.extractMatcherSet()
        var ca: String?
        while h.d.next() {
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "ca":
                    let v = try h.d.arg()
                    if h.d.nextArg() { throw h.d.argErr() }
                    ca = v
                default:
                    h.warn("acme_server: subdirective '\(h.d.val)' is not part of Caddy 2.6.2's acme_server; ignored")
                    _ = h.d.remainingArgs()
                    let level = h.d.nesting
                    while h.d.nextBlock(level) {}
                }
            }
        }
        var values = h.newRoute(matcher, .object([("handler", .string("acme_server")), ("ca", ca.map(JSONValue.string))]))
        if let ca { values.append(ConfigValue("pki.ca", .json(.object([("id", .string(ca))])))) }
        return values
    }
}
