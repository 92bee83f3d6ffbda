import QuantumCore

/// Every directive the Caddyfile knows, by name: how its tokens become config values.
enum Directives {
    typealias Parser = @Sendable (inout Helper) throws -> [ConfigValue]

    static let registry: [String: Parser] = {
        var r: [String: Parser] = [:]
        // Directives that yield something other than one handler route.
        r["bind"] = parseBind
        r["tls"] = TLSDirective.parse
        r["root"] = parseRoot
        r["vars"] = handler { h in try VarsSyntax.parse(&h.d) }
        r["redir"] = handler(parseRedir)
        r["respond"] = handler { h in try StaticResponseSyntax.respond(&h.d) }
        r["abort"] = handler(parseAbort)
        r["error"] = handler { h in try StaticResponseSyntax.error(&h.d) }
        r["route"] = handler(parseRoute)
        r["invoke"] = handler(parseInvoke)
        r["handle"] = handler { h in try h.parseSegmentAsSubroute().handlerJSON }
        r["handle_path"] = parseHandlePath
        r["handle_errors"] = parseHandleErrors
        r["log"] = LogSyntax.parseSite
        r["skip_log"] = handler(parseSkipLog)
        r["rewrite"] = handler(RewriteSyntax.rewrite)
        r["method"] = handler(RewriteSyntax.method)
        r["uri"] = handler(RewriteSyntax.uri)
        r["try_files"] = RewriteSyntax.tryFiles
        r["header"] = HeaderSyntax.header
        r["request_header"] = HeaderSyntax.requestHeader
        r["encode"] = handler { h in try EncodeSyntax.parse(&h.d) }
        r["file_server"] = handler(FileServerSyntax.parse)
        r["request_body"] = handler(parseRequestBody)
        r["map"] = handler(MapSyntax.parse)
        r["basicauth"] = handler(BasicAuthSyntax.parse)
        r["reverse_proxy"] = handler { h in try ReverseProxySyntax.parse(&h) }
        r["copy_response"] = handler(CopyResponseSyntax.copyResponse)
        r["copy_response_headers"] = handler(CopyResponseSyntax.copyResponseHeaders)
        r["php_fastcgi"] = PHPFastCGISyntax.parse
        r["forward_auth"] = ForwardAuthSyntax.parse
        r["metrics"] = handler(parseMetrics)
        r["push"] = handler(parsePush)
        r["templates"] = handler(parseTemplates)
        r["acme_server"] = AcmeServerSyntax.parse
        r["tracing"] = handler(parseTracing)
        r["file_sync"] = handler(QuantumDirectives.fileSync)
        r["websocket_echo"] = handler(QuantumDirectives.websocketEcho)
        return r
    }()

    /// `handle_path` sorts as `handle`.
    static func normalizedName(_ name: String) -> String { name == "handle_path" ? "handle" : name }

    /// A directive that is one handler under an optional leading matcher.
    static func handler(_ build: @escaping @Sendable (inout Helper) throws -> JSONValue) -> Parser {
        { h in
            guard h.d.next() else { throw h.d.argErr() }
            let matcher = try h.extractMatcherSet()
            let handler = try build(&h)
            return h.newRoute(matcher, handler)
        }
    }

    /// `bind HOST...`: every argument on the directive's lines (Caddy 2.6.2 reads a block's lines too).
    /// `invoke NAME`: runs a named route (`&(NAME) { ... }`); the server gets that route.
    static func parseInvoke(_ h: inout Helper) throws -> JSONValue {
        h.d.next()
        let name = try h.d.arg()
        if h.d.nextArg() { throw h.d.argErr() }
        if !h.state.invoked.contains(name) { h.state.invoked.append(name) }
        return .object([("handler", .string("invoke")), ("name", .string(name))])
    }

    static func parseBind(_ h: inout Helper) throws -> [ConfigValue] {
        var hosts: [String] = []
        while h.d.next() { hosts += h.d.remainingArgs() }
        return [ConfigValue("bind", .strings(hosts))]
    }

    static func parseRoot(_ h: inout Helper) throws -> [ConfigValue] {
        h.d.next()
        let count = h.d.countRemainingArgs()
        if count == 0 { throw h.d.err("too few arguments; must have at least a root path") }
        if count > 2 { throw h.d.err("too many arguments; should only be a matcher and a path") }
        if count == 1 {
            let root = try h.d.arg()
            return h.newRoute(nil, .object([("handler", .string("vars")), ("root", .string(root))]))
        }
        let matcher = try h.extractMatcherSet()
        h.d.next()
        let root = try h.d.arg()
        return h.newRoute(matcher, .object([("handler", .string("vars")), ("root", .string(root))]))
    }

    static func parseRedir(_ h: inout Helper) throws -> JSONValue {
        guard h.d.next(), h.d.nextArg() else { throw h.d.argErr() }
        let to = h.d.val
        var code = h.d.nextArg() ? h.d.val : ""
        var body: String?
        switch code {
        case "permanent": code = "301"
        case "temporary", "": code = "302"
        case "html":
            let safe = HTMLEscape.escape(to)
            body = "<!DOCTYPE html>\n<html>\n\t<head>\n\t\t<title>Redirecting...</title>\n\t\t<script>window.location.replace(\"\(safe)\");</script>\n\t\t<meta http-equiv=\"refresh\" content=\"0; URL='\(safe)'\">\n\t</head>\n\t<body>Redirecting to <a href=\"\(safe)\">\(safe)</a>...</body>\n</html>\n"
            code = "200"
        default:
            if !code.hasPrefix("{") {
                guard let n = Int(code) else { throw h.d.err("Not a supported redir code type or not valid integer: '\(code)'") }
                // 401 with a Location: for XHR clients that would follow a 3xx silently.
                if (n < 300 || n > 399) && n != 401 { throw h.d.err("Redir code not in the 3xx range or 401: '\(n)'") }
            }
        }
        return .object([
            ("handler", .string("static_response")),
            ("status_code", StaticResponseSyntax.weakString(code)),
            ("headers", code == "200" ? nil : .object([("Location", .strings([to]))])),
            ("body", body.map(JSONValue.string)),
        ])
    }

    static func parseAbort(_ h: inout Helper) throws -> JSONValue {
        while h.d.next() {
            if h.d.nextBlock(0) { throw h.d.argErr() }
        }
        return .object([("handler", .string("static_response")), ("abort", .bool(true))])
    }

    /// `route { ... }`: the handlers in the order written, neither sorted nor grouped.
    static func parseRoute(_ h: inout Helper) throws -> JSONValue {
        var subroute = Subroute()
        for v in try h.parseSegmentAsConfig() {
            switch v.value {
            case .route(let r): subroute.routes.append(r)
            case .routes(let rs): subroute.routes += rs
            default: throw h.d.err("\(v.directive) directive returned something other than an HTTP route or subroute (only handler directives can be used in routes)")
            }
        }
        return subroute.handlerJSON
    }

    static func parseHandlePath(_ h: inout Helper) throws -> [ConfigValue] {
        h.d.next()
        guard h.d.nextArg() else { throw h.d.argErr() }
        let path = h.d.val
        if !path.hasPrefix("/") { throw h.d.err("path matcher must begin with '/', got \(path)") }
        let prefix: String
        if path.hasSuffix("/*") { prefix = String(path.dropLast(2)) } else if path.hasSuffix("*") { prefix = String(path.dropLast()) } else { prefix = path }
        h.d.delete()
        h.d.reset()
        var subroute = try h.parseSegmentAsSubroute()
        subroute.routes.insert(Route(handle: [.object([("handler", .string("rewrite")), ("strip_path_prefix", .string(prefix))])]), at: 0)
        return h.newRoute(.object([("path", .strings([path]))]), subroute.handlerJSON)
    }

    static func parseHandleErrors(_ h: inout Helper) throws -> [ConfigValue] {
        let subroute = try h.parseSegmentAsSubroute()
        return [ConfigValue("error_route", .routes(subroute.routes))]
    }

    static func parseSkipLog(_ h: inout Helper) throws -> JSONValue {
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
        }
        return .object([("handler", .string("vars")), ("skip_log", .bool(true))])
    }

    static func parseRequestBody(_ h: inout Helper) throws -> JSONValue {
        var maxSize: Int?
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "max_size":
                    let v = try h.d.arg()
                    guard let n = ByteSize.parse(v) else { throw h.d.err("parsing max_size: \(v)") }
                    maxSize = n
                default: throw h.d.err("unrecognized request_body subdirective '\(h.d.val)'")
                }
            }
        }
        return .object([("handler", .string("request_body")), ("max_size", maxSize.map { .number(String($0)) })])
    }

    static func parseMetrics(_ h: inout Helper) throws -> JSONValue {
        var disableOM = false
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "disable_openmetrics":
                    if h.d.nextArg() { throw h.d.argErr() }
                    disableOM = true
                default: throw h.d.err("unrecognized subdirective '\(h.d.val)'")
                }
            }
        }
        return .object([("handler", .string("metrics")), ("disable_openmetrics", disableOM ? .bool(true) : nil)])
    }

    static func parsePush(_ h: inout Helper) throws -> JSONValue {
        var resources: [JSONValue] = []
        var headerOps: JSONValue?
        while h.d.next() {
            if h.d.nextArg() {
                resources.append(.object([("target", .string(h.d.val))]))
                if h.d.nextArg() { throw h.d.argErr() }
            }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "headers":
                    if h.d.nextArg() { throw h.d.argErr() }
                    var ops: JSONValue = .object([])
                    let level = h.d.nesting
                    while h.d.nextBlock(level) {
                        let field = h.d.val
                        let value = h.d.nextArg() ? h.d.val : ""
                        let replacement = h.d.nextArg() ? h.d.val : ""
                        try HeaderSyntax.applyOp(&ops, field: field, value: value, replacement: replacement, response: nil)
                    }
                    headerOps = ops
                case "GET", "HEAD":
                    let method = h.d.val
                    let target = try h.d.arg()
                    resources.append(.object([("method", .string(method)), ("target", .string(target))]))
                default:
                    resources.append(.object([("target", .string(h.d.val))]))
                }
            }
        }
        return .object([("handler", .string("push")), ("resources", resources.isEmpty ? nil : .array(resources)), ("headers", headerOps)])
    }

    static func parseTemplates(_ h: inout Helper) throws -> JSONValue {
        var fields: [(String, JSONValue?)] = [("handler", .string("templates"))]
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "mime": fields.append(("mime_types", .strings(h.d.remainingArgs())))
                case "between":
                    let open = try h.d.arg(), close = try h.d.arg()
                    fields.append(("delimiters", .strings([open, close])))
                case "root": fields.append(("file_root", .string(try h.d.arg())))
                case "extensions": throw h.d.err("template extensions are not available in this build")
                default: throw h.d.err("unrecognized subdirective '\(h.d.val)'")
                }
            }
        }
        return .object(fields)
    }

    static func parseTracing(_ h: inout Helper) throws -> JSONValue {
        var span: String?
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "span": span = try h.d.arg()
                default: throw h.d.err("unrecognized subdirective \(h.d.val)")
                }
            }
        }
        return .object([("handler", .string("tracing")), ("span", span.map(JSONValue.string))])
    }
}

/// HTML escaping as Go's `html.EscapeString` writes it (`&#34;` for a double quote).
enum HTMLEscape {
    static func escape(_ s: String) -> String { HTML.escape(s).replacingOccurrences(of: "&quot;", with: "&#34;") }
}
