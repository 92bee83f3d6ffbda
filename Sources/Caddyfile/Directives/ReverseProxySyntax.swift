import QuantumCore

/// `reverse_proxy [MATCHER] [UPSTREAMS...] { ... }`: upstreams, load balancing, health checks,
/// header manipulation, transport and `handle_response`, as Caddy 2.6.2 parses them.
enum ReverseProxySyntax {
    struct Upstream {
        var network = "", scheme = "", host = "", port = ""
        var dial: String {
            if !network.isEmpty { return network + "/" + (port.isEmpty ? host : SiteAddress.joinHostPort(host, port)) }
            if port.isEmpty && host.contains("{") { return host }
            return SiteAddress.joinHostPort(host, port)
        }
    }

    static func parseUpstream(_ address: String) throws -> Upstream {
        var u = Upstream()
        if let schemeEnd = address.range(of: "://") {
            if address.contains("{") {
                throw CaddyfileError("due to parsing difficulties, placeholders are not allowed when an upstream address contains a scheme")
            }
            u.scheme = String(address[..<schemeEnd.lowerBound])
            let rest = String(address[schemeEnd.upperBound...])
            if rest.contains(where: { "/?#".contains($0) }) {
                throw CaddyfileError("for now, URLs for proxy upstreams only support scheme, host, and port components")
            }
            if let (h, p) = SiteAddress.splitHostPort(rest) { (u.host, u.port) = (h, p) } else { u.host = rest.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) }
            if u.scheme == "http" && u.port == "443" { throw CaddyfileError("upstream address has conflicting scheme (http://) and port (:443, the HTTPS port)") }
            if u.scheme == "https" && u.port == "80" { throw CaddyfileError("upstream address has conflicting scheme (https://) and port (:80, the HTTP port)") }
            if u.scheme == "h2c" && u.port == "443" { throw CaddyfileError("upstream address has conflicting scheme (h2c://) and port (:443, the HTTPS port)") }
            if u.port.isEmpty {
                switch u.scheme {
                case "", "http", "h2c": u.port = "80"
                case "https": u.port = "443"
                default: break
                }
            }
        } else {
            var rest = address
            if let network = NetworkAddress.network(of: address) ?? (address.lowercased().hasPrefix("unix+h2c/") ? "unix+h2c" : nil) {
                u.network = network
                rest = String(address.dropFirst(network.count + 1))
            }
            if u.network.hasPrefix("unix") {
                u.host = rest
            } else if let (h, p) = SiteAddress.splitHostPort(rest) {
                (u.host, u.port) = (h, p)
            } else {
                u.host = rest
            }
            if u.port.isEmpty && !u.host.contains("{") && !u.network.hasPrefix("unix") { u.port = "80" }
        }
        if u.network == "unix+h2c" {
            u.network = "unix"
            u.scheme = "h2c"
        }
        return u
    }

    /// What a shortcut built on `reverse_proxy` (`php_fastcgi`, `forward_auth`) sets before the
    /// user's own subdirectives are read.
    struct Presets {
        var transport: JSONValue?
        var requestOps: JSONValue?
        var rewrite: [(String, JSONValue?)] = []
        var handleResponse: [JSONValue] = []
    }

    static func parse(_ h: inout Helper, presets: Presets = Presets()) throws -> JSONValue {
        var upstreams: [JSONValue] = []
        var commonScheme: String?
        var lb: [(String, JSONValue?)] = [], active: [(String, JSONValue?)] = [], passive: [(String, JSONValue?)] = []
        var fields: [String: JSONValue] = [:]
        var requestOps: JSONValue? = presets.requestOps, responseOps: JSONValue?
        var rewrite: [(String, JSONValue?)] = presets.rewrite
        var transport: JSONValue?, transportName: String?
        let presetTransport = presets.transport
        var responseMatchers: [String: JSONValue] = [:]
        var handleResponseSegments: [[Token]] = []
        var handleResponse: [JSONValue] = presets.handleResponse

        func addUpstream(_ address: String, _ d: Dispenser) throws {
            let u: Upstream
            do { u = try parseUpstream(address) } catch let e as CaddyfileError { throw d.err(e.message) }
            if let common = commonScheme, u.scheme != common {
                throw d.err("for now, all proxy upstreams must use the same scheme (transport protocol); expecting '\(common)://' but got '\(u.scheme)://'")
            }
            commonScheme = u.scheme
            // Caddy 2.6.2 keeps a port range as written (`host:8000-8002` is one dial address).
            upstreams.append(.object([("dial", .string(u.dial))]))
        }
        func status(_ s: String, _ d: Dispenser) throws -> JSONValue {
            let code = s.count == 3 && s.hasSuffix("xx") ? String(s.prefix(1)) : s
            guard let n = Int(code) else { throw d.err("bad status value '\(s)': strconv.Atoi: parsing \"\(code)\": invalid syntax") }
            return .int(n)
        }
        func headerOp(_ request: Bool, _ args: [String]) throws {
            guard (1...3).contains(args.count) else { throw h.d.argErr() }
            var ops = (request ? requestOps : responseOps) ?? .object([])
            try HeaderSyntax.applyOp(&ops, field: args[0], value: args.count > 1 ? args[1] : "", replacement: args.count > 2 ? args[2] : "", response: nil)
            if request { requestOps = ops } else { responseOps = ops }
        }

        while h.d.next() {
            for up in h.d.remainingArgs() { try addUpstream(up, h.d) }
            let level = h.d.nesting
            while h.d.nextBlock(level) {
                let sub = h.d.val
                if sub.hasPrefix("@") {
                    if responseMatchers[sub] != nil { throw h.d.err("matcher is defined more than once: \(sub)") }
                    var seg = Dispenser(h.d.nextSegment())
                    seg.next()
                    responseMatchers[sub] = try ResponseMatcherSyntax.parse(&seg)
                    continue
                }
                switch sub {
                case "to":
                    let args = h.d.remainingArgs()
                    if args.isEmpty { throw h.d.argErr() }
                    for up in args { try addUpstream(up, h.d) }
                case "lb_policy":
                    let name = try h.d.arg()
                    if lb.contains(where: { $0.0 == "selection_policy" }) { throw h.d.err("load balancing selection policy already specified") }
                    lb.append(("selection_policy", try selectionPolicy(name, &h.d)))
                case "lb_retries": lb.append(("retries", try h.d.intArg("lb_retries number")))
                case "lb_try_duration": lb.append(("try_duration", try h.d.durationArg()))
                case "lb_try_interval": lb.append(("try_interval", try h.d.durationArg()))
                case "lb_retry_match":
                    var set: [(String, JSONValue)] = []
                    for (name, tokens) in try MatcherDefinitions.collectMatcherTokens(&h.d) {
                        set.append((name, try MatcherModules.parse(name, Dispenser(tokens))))
                    }
                    let existing = lb.first { $0.0 == "retry_match" }?.1?.arrayValues ?? []
                    lb.removeAll { $0.0 == "retry_match" }
                    lb.append(("retry_match", .array(existing + [JSONValue.object(set).canonical])))
                case "health_uri": active.append(("uri", .string(try h.d.arg())))
                case "health_path":
                    active.append(("path", .string(try h.d.arg())))
                    h.warn("the 'health_path' subdirective is deprecated, please use 'health_uri' instead!")
                case "health_port": active.append(("port", try h.d.intArg("port number")))
                case "health_headers":
                    var headers: [(String, JSONValue)] = []
                    let inner = h.d.nesting
                    while h.d.nextBlock(inner) {
                        let key = h.d.val
                        var values = h.d.remainingArgs()
                        if values.isEmpty { values = [""] }
                        headers.removeAll { $0.0 == key }
                        headers.append((key, .strings(values)))
                    }
                    active.append(("headers", .object(headers)))
                case "health_interval": active.append(("interval", try h.d.durationArg()))
                case "health_timeout": active.append(("timeout", try h.d.durationArg()))
                case "health_status": active.append(("expect_status", try status(try h.d.arg(), h.d)))
                case "health_body": active.append(("expect_body", .string(try h.d.arg())))
                case "max_fails": passive.append(("max_fails", try h.d.intArg("maximum fails count")))
                case "fail_duration": passive.append(("fail_duration", try h.d.durationArg()))
                case "unhealthy_request_count": passive.append(("unhealthy_request_count", try h.d.intArg("maximum connection count")))
                case "unhealthy_status":
                    let args = h.d.remainingArgs()
                    if args.isEmpty { throw h.d.argErr() }
                    passive.append(("unhealthy_status", .array(try args.map { try status($0, h.d) })))
                case "unhealthy_latency": passive.append(("unhealthy_latency", try h.d.durationArg()))
                case "flush_interval":
                    let v = try h.d.arg()
                    if let n = Int(v) { fields["flush_interval"] = .int(n) } else {
                        guard let n = CaddyDuration.parse(v) else { throw h.d.err("bad duration value '\(v)'") }
                        fields["flush_interval"] = .number(String(n))
                    }
                case "request_buffers", "response_buffers":
                    let v = try h.d.arg()
                    let size: Int
                    if v == "unlimited" { size = -1 } else {
                        guard let n = ByteSize.parse(v) else { throw h.d.err("invalid byte size '\(v)'") }
                        size = n
                    }
                    if h.d.nextArg() { throw h.d.argErr() }
                    fields[sub] = .number(String(size))
                case "buffer_requests":
                    if h.d.nextArg() { throw h.d.argErr() }
                    fields["request_buffers"] = .int(-1)
                case "buffer_responses":
                    if h.d.nextArg() { throw h.d.argErr() }
                    fields["response_buffers"] = .int(-1)
                case "trusted_proxies":
                    var ranges = fields["trusted_proxies"]?.arrayValues.compactMap(\.stringValue) ?? []
                    while h.d.nextArg() { if h.d.val == "private_ranges" { ranges += CIDR.privateRanges } else { ranges.append(h.d.val) } }
                    fields["trusted_proxies"] = .strings(ranges)
                case "header_up":
                    let args = h.d.remainingArgs()
                    if args.count == 2 {
                        if args[0].lowercased() == "host" && ["{hostport}", "{http.request.hostport}"].contains(args[1]) {
                            h.warn("Unnecessary header_up Host: the reverse proxy's default behavior is to pass headers to the upstream")
                        }
                    }
                    try headerOp(true, args)
                case "header_down":
                    try headerOp(false, h.d.remainingArgs())
                case "method":
                    let method = try h.d.arg()
                    rewrite.removeAll { $0.0 == "method" }
                    rewrite.insert(("method", .string(method)), at: 0)
                    if h.d.nextArg() { throw h.d.argErr() }
                case "rewrite":
                    let uri = try h.d.arg()
                    rewrite.removeAll { $0.0 == "uri" }
                    rewrite.append(("uri", .string(uri)))
                    if h.d.nextArg() { throw h.d.argErr() }
                case "transport":
                    let name = try h.d.arg()
                    if transport != nil || presetTransport != nil { throw h.d.err("transport already specified") }
                    transportName = name
                    transport = try TransportSyntax.parse(name, &h.d)
                case "handle_response":
                    handleResponseSegments.append(h.d.nextSegment())
                case "replace_status":
                    let args = h.d.remainingArgs()
                    guard args.count == 1 || args.count == 2 else {
                        throw h.d.err("must have one or two arguments: an optional response matcher, and a status code")
                    }
                    var handler: [(String, JSONValue?)] = []
                    if args.count == 2 {
                        guard args[0].hasPrefix("@") else { throw h.d.err("must use a named response matcher, starting with '@'") }
                        guard let m = responseMatchers[args[0]] else { throw h.d.err("no named response matcher defined with name '\(args[0].dropFirst())'") }
                        handler.append(("match", m))
                    }
                    handler.append(("status_code", StaticResponseSyntax.weakString(args.last!)))
                    if h.d.nextBlock(1) { throw h.d.err("cannot define routes for 'replace_status', use 'handle_response' instead.") }
                    handleResponse.append(.object(handler))
                default:
                    throw h.d.err("unrecognized subdirective \(sub)")
                }
            }
        }

        if (commonScheme == "https" || commonScheme == "h2c") && transport == nil {
            transport = .object([("protocol", .string("http"))])
            transportName = "http"
        }
        if var t = transport, transportName == "http" {
            let tlsEnabled = t["tls"] != nil
            if commonScheme == "https" && !tlsEnabled { t.set("tls", .object([])) }
            if commonScheme == "http" && tlsEnabled {
                throw h.d.err("upstream address scheme is HTTP but transport is configured for HTTP+TLS (HTTPS)")
            }
            if commonScheme == "h2c" { t.set("versions", .strings(["h2c", "2"])) }
            transport = t.objectMembers.count == 1 ? nil : t
        } else if transport != nil && commonScheme == "https" {
            throw h.d.err("upstreams are configured for HTTPS but transport module does not support TLS")
        }

        for segment in handleResponseSegments {
            var d = Dispenser(segment)
            d.next()
            let args = d.remainingArgs()
            if args.count == 2 { throw d.err("configuring 'handle_response' for status code replacement is no longer supported. Use 'replace_status' instead.") }
            if args.count > 1 { throw d.err("too many arguments for 'handle_response': [\(args.joined(separator: " "))]") }
            var match: JSONValue?
            if let name = args.first {
                guard name.hasPrefix("@") else { throw d.err("must use a named response matcher, starting with '@'") }
                guard let m = responseMatchers[name] else { throw d.err("no named response matcher defined with name '\(name.dropFirst())'") }
                match = m
            }
            var sub = Helper(d: Dispenser(d.nextSegment()), state: h.state, matcherDefs: h.matcherDefs, parentBlock: h.parentBlock)
            let subroute = try sub.parseSegmentAsSubroute()
            handleResponse.append(.object([("match", match), ("routes", subroute.routes.isEmpty ? nil : .array(subroute.routes.map(\.json)))]))
        }
        handleResponse = handleResponse.filter { $0["match"] != nil } + handleResponse.filter { $0["match"] == nil }

        var headers: [(String, JSONValue?)] = []
        if let requestOps { headers.append(("request", requestOps)) }
        if let responseOps { headers.append(("response", responseOps)) }
        if let presetTransport { transport = presetTransport }
        let health = JSONValue.object([("active", active.isEmpty ? nil : .object(active)), ("passive", passive.isEmpty ? nil : .object(passive))])
        return .object([
            ("handler", .string("reverse_proxy")),
            ("transport", transport),
            ("load_balancing", lb.isEmpty ? nil : .object(lb)),
            ("health_checks", health.objectMembers.isEmpty ? nil : health),
            ("upstreams", upstreams.isEmpty ? nil : .array(upstreams)),
            ("flush_interval", fields["flush_interval"]),
            ("trusted_proxies", fields["trusted_proxies"]),
            ("headers", headers.isEmpty ? nil : .object(headers)),
            ("request_buffers", fields["request_buffers"]),
            ("response_buffers", fields["response_buffers"]),
            ("rewrite", rewrite.isEmpty ? nil : .object(rewrite)),
            ("handle_response", handleResponse.isEmpty ? nil : .array(handleResponse)),
        ])
    }

    static func selectionPolicy(_ name: String, _ d: inout Dispenser) throws -> JSONValue {
        switch name {
        case "random", "least_conn", "round_robin", "first", "ip_hash", "client_ip_hash", "uri_hash":
            if d.nextArg() { throw d.argErr() }
            return .object([("policy", .string(name))])
        case "random_choose":
            var choose: Int?
            if d.nextArg() {
                guard let n = Int(d.val) else { throw d.err("invalid choice value '\(d.val)'") }
                choose = n
            }
            return .object([("policy", .string(name)), ("choose", choose.map(JSONValue.int))])
        case "header", "query":
            let field = try d.arg()
            return .object([("policy", .string(name)), (name == "header" ? "field" : "key", .string(field))])
        case "cookie":
            var cookieName: String?, secret: String?
            let args = d.remainingArgs()
            if args.count > 2 { throw d.argErr() }
            if args.count > 0 { cookieName = args[0] }
            if args.count > 1 { secret = args[1] }
            return .object([("policy", .string("cookie")), ("name", cookieName.map(JSONValue.string)), ("secret", secret.map(JSONValue.string))])
        default:
            throw d.err("getting module named 'http.reverse_proxy.selection_policies.\(name)': module not registered: http.reverse_proxy.selection_policies.\(name)")
        }
    }
}

import Foundation

/// `copy_response` and `copy_response_headers`, for use inside `handle_response`.
enum CopyResponseSyntax {
    static func copyResponse(_ h: inout Helper) throws -> JSONValue {
        var status: String?
        while h.d.next() {
            if h.d.nextArg() { status = h.d.val }
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "status":
                    status = try h.d.arg()
                    if h.d.nextArg() { throw h.d.argErr() }
                default: throw h.d.err("unrecognized subdirective '\(h.d.val)'")
                }
            }
        }
        return .object([("handler", .string("copy_response")), ("status_code", status.map(StaticResponseSyntax.weakString))])
    }

    static func copyResponseHeaders(_ h: inout Helper) throws -> JSONValue {
        var include: [String] = [], exclude: [String] = []
        while h.d.next() {
            if h.d.nextArg() { throw h.d.argErr() }
            while h.d.nextBlock(0) {
                switch h.d.val {
                case "include": include += h.d.remainingArgs()
                case "exclude": exclude += h.d.remainingArgs()
                default: throw h.d.err("unrecognized subdirective '\(h.d.val)'")
                }
            }
        }
        return .object([("handler", .string("copy_response_headers")), ("include", include.isEmpty ? nil : .strings(include)),
                        ("exclude", exclude.isEmpty ? nil : .strings(exclude))])
    }
}
