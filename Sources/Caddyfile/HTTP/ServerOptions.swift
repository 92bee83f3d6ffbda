import QuantumCore

/// One `servers [LISTENER] { ... }` global option: settings for the servers on that listener.
struct ServerOptions {
    var listenerAddress = ""
    /// Server JSON fields, in Caddy's order.
    var fields: [(String, JSONValue)] = []
    var logCredentials = false
}

enum ServerOptionsParser {
    static func parse(_ d: inout Dispenser) throws -> ServerOptions {
        var opts = ServerOptions()
        var values: [String: JSONValue] = [:]
        while d.next() {
            if d.nextArg() {
                opts.listenerAddress = d.val
                if d.nextArg() { throw d.argErr() }
            }
            let level = d.nesting
            while d.nextBlock(level) {
                switch d.val {
                case "listener_wrappers":
                    var wrappers: [JSONValue] = []
                    let inner = d.nesting
                    while d.nextBlock(inner) {
                        let name = d.val
                        guard ["http_redirect", "tls", "proxy_protocol"].contains(name) else {
                            throw d.err("getting module named 'caddy.listeners.\(name)': module not registered: caddy.listeners.\(name)")
                        }
                        wrappers.append(.object([("wrapper", .string(name))]))
                    }
                    values["listener_wrappers"] = .array(wrappers)
                case "timeouts":
                    let inner = d.nesting
                    while d.nextBlock(inner) {
                        switch d.val {
                        case "read_body": values["read_timeout"] = try d.durationArg()
                        case "read_header": values["read_header_timeout"] = try d.durationArg()
                        case "write": values["write_timeout"] = try d.durationArg()
                        case "idle": values["idle_timeout"] = try d.durationArg()
                        default: throw d.err("unrecognized timeouts option '\(d.val)'")
                        }
                    }
                case "keepalive_interval": values["keepalive_interval"] = try d.durationArg()
                case "max_header_size":
                    let v = try d.arg()
                    if d.nextArg() { throw d.argErr() }
                    guard let size = ByteSize.parse(v) else { throw d.err("parsing max_header_size: \(v)") }
                    values["max_header_bytes"] = .number(String(size))
                case "log_credentials":
                    if d.nextArg() { throw d.argErr() }
                    opts.logCredentials = true
                case "protocols":
                    var protocols: [String] = []
                    for p in d.remainingArgs() {
                        guard ["h1", "h2", "h2c", "h3"].contains(p) else { throw d.err("unknown protocol '\(p)': expected h1, h2, h2c, or h3") }
                        if protocols.contains(p) { throw d.err("protocol \(p) specified more than once") }
                        protocols.append(p)
                    }
                    if d.nextBlock(d.nesting) { throw d.argErr() }
                    values["protocols"] = .strings(protocols)
                case "strict_sni_host":
                    if d.nextArg() && d.val != "insecure_off" && d.val != "on" {
                        throw d.err("strict_sni_host only supports 'on' or 'insecure_off', got '\(d.val)'")
                    }
                    values["strict_sni_host"] = .bool(d.val != "insecure_off")
                case "trusted_proxies":
                    guard d.nextArg() else { throw d.err("trusted_proxies expects an IP range source module name as its first argument") }
                    values["trusted_proxies"] = try TrustedProxies.parse(d.val, &d)
                case "client_ip_headers":
                    var headers: [String] = []
                    for h in d.remainingArgs() {
                        if headers.contains(h) { throw d.err("client IP header \(h) specified more than once") }
                        headers.append(h)
                    }
                    if d.nextBlock(d.nesting) { throw d.argErr() }
                    values["client_ip_headers"] = .strings(headers)
                case "metrics":
                    if d.nextArg() { throw d.argErr() }
                    if d.nextBlock(d.nesting) { throw d.argErr() }
                    values["metrics"] = .object([])
                default:
                    throw d.err("unrecognized servers option '\(d.val)'")
                }
            }
        }
        let order = ["listener_wrappers", "read_timeout", "read_header_timeout", "write_timeout", "idle_timeout", "keepalive_interval",
                     "max_header_bytes", "strict_sni_host", "trusted_proxies", "client_ip_headers", "protocols", "metrics"]
        opts.fields = order.compactMap { k in values[k].map { (k, $0) } }
        return opts
    }
}

/// `trusted_proxies static RANGES...` (the one IP range source Caddy 2.6.2 ships).
enum TrustedProxies {
    static func parse(_ source: String, _ d: inout Dispenser) throws -> JSONValue {
        guard source == "static" else {
            throw d.err("getting module named 'http.ip_sources.\(source)': module not registered: http.ip_sources.\(source)")
        }
        var ranges: [String] = []
        for arg in d.remainingArgs() {
            if arg == "private_ranges" { ranges += CIDR.privateRanges } else { ranges.append(arg) }
        }
        return .object([("source", .string("static")), ("ranges", ranges.isEmpty ? nil : .strings(ranges))])
    }
}

/// Applies `servers` options to the servers whose listeners they name (the unnamed one to all others).
enum ServerOptionsApplier {
    static func apply(_ options: [ServerOptions], to servers: inout [ServerBuilder.Server]) throws {
        guard !options.isEmpty else { return }
        for i in servers.indices {
            guard let opts = options.first(where: { $0.listenerAddress.isEmpty || servers[i].listen.contains($0.listenerAddress) }) else { continue }
            for (k, v) in opts.fields {
                if k == "listener_wrappers" { servers[i].listenerWrappers = v.arrayValues } else { servers[i].extra.append((k, v)) }
            }
            if opts.logCredentials {
                var logs = servers[i].logs ?? .object([])
                logs.set("should_log_credentials", .bool(true))
                servers[i].logs = logs
            }
        }
    }
}
