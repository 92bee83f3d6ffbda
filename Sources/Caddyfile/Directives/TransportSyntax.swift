import QuantumCore

/// `transport http { ... }` and `transport fastcgi { ... }` of `reverse_proxy`.
enum TransportSyntax {
    static func parse(_ name: String, _ d: inout Dispenser) throws -> JSONValue {
        if name == "fastcgi" { return try fastCGI(&d) }
        guard name == "http" else {
            throw d.err("getting module named 'http.reverse_proxy.transport.\(name)': module not registered: http.reverse_proxy.transport.\(name)")
        }
        var fields: [(String, JSONValue?)] = [("protocol", .string("http"))]
        var tls: [(String, JSONValue?)]?, keepAlive: [(String, JSONValue?)]?
        let level = d.nesting
        while d.nextBlock(level) {
            let sub = d.val
            switch sub {
            case "read_buffer": fields.append(("read_buffer_size", try d.sizeArg()))
            case "write_buffer": fields.append(("write_buffer_size", try d.sizeArg()))
            case "max_response_header": fields.append(("max_response_header_size", try d.sizeArg()))
            case "proxy_protocol": fields.append(("proxy_protocol", .string(try d.arg())))
            case "dial_timeout": fields.append(("dial_timeout", try d.durationArg()))
            case "dial_fallback_delay": fields.append(("dial_fallback_delay", try d.durationArg()))
            case "response_header_timeout": fields.append(("response_header_timeout", try d.durationArg()))
            case "expect_continue_timeout": fields.append(("expect_continue_timeout", try d.durationArg()))
            case "resolvers":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                fields.append(("resolver", .object([("addresses", .strings(list))])))
            case "tls":
                if d.nextArg() { throw d.argErr() }
                tls = tls ?? []
            case "tls_client_auth":
                tls = tls ?? []
                let args = d.remainingArgs()
                switch args.count {
                case 1: tls!.append(("client_certificate_automate", .string(args[0])))
                case 2:
                    tls!.append(("client_certificate_file", .string(args[0])))
                    tls!.append(("client_certificate_key_file", .string(args[1])))
                default: throw d.argErr()
                }
            case "tls_insecure_skip_verify":
                if d.nextArg() { throw d.argErr() }
                tls = (tls ?? []) + [("insecure_skip_verify", .bool(true))]
            case "tls_timeout": tls = (tls ?? []) + [("handshake_timeout", try d.durationArg())]
            case "tls_trusted_ca_certs":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                tls = (tls ?? []) + [("root_ca_pem_files", .strings(list))]
            case "tls_server_name": tls = (tls ?? []) + [("server_name", .string(try d.arg()))]
            case "tls_renegotiation": tls = (tls ?? []) + [("renegotiation", .string(try d.arg()))]
            case "tls_except_ports":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                tls = (tls ?? []) + [("except_ports", .strings(list))]
            case "keepalive":
                let v = try d.arg()
                if v == "off" { keepAlive = (keepAlive ?? []) + [("enabled", .bool(false))] } else {
                    guard let n = CaddyDuration.parse(v) else { throw d.err("parsing duration: \(v)") }
                    keepAlive = (keepAlive ?? []) + [("idle_timeout", .number(String(n)))]
                }
            case "keepalive_interval": keepAlive = (keepAlive ?? []) + [("probe_interval", try d.durationArg())]
            case "keepalive_idle_conns":
                keepAlive = (keepAlive ?? []) + [("max_idle_conns", try d.intArg("integer value"))]
            case "keepalive_idle_conns_per_host":
                keepAlive = (keepAlive ?? []) + [("max_idle_conns_per_host", try d.intArg("integer value"))]
            case "versions":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                fields.append(("versions", .strings(list)))
            case "compression":
                let v = try d.arg()
                if v == "off" { fields.append(("compression", .bool(false))) }
            case "max_conns_per_host":
                fields.append(("max_conns_per_host", try d.intArg("integer value")))
            default:
                throw d.err("unrecognized subdirective \(sub)")
            }
        }
        if let tls { fields.append(("tls", .object(tls))) }
        if let keepAlive { fields.append(("keep_alive", .object(keepAlive))) }
        return .object(fields)
    }

    static func fastCGI(_ d: inout Dispenser) throws -> JSONValue {
        var fields: [String: JSONValue] = [:]
        var env: [(String, JSONValue)] = []
        let level = d.nesting
        while d.nextBlock(level) {
            let sub = d.val
            switch sub {
            case "root": fields["root"] = .string(try d.arg())
            case "split":
                let list = d.remainingArgs()
                if list.isEmpty { throw d.argErr() }
                fields["split_path"] = .strings(list)
            case "env":
                let args = d.remainingArgs()
                if args.count != 2 { throw d.argErr() }
                env.removeAll { $0.0 == args[0] }
                env.append((args[0], .string(args[1])))
            case "resolve_root_symlink", "capture_stderr":
                if d.nextArg() { throw d.argErr() }
                fields[sub] = .bool(true)
            case "dial_timeout", "read_timeout", "write_timeout": fields[sub] = try d.durationArg()
            default: throw d.err("unrecognized subdirective \(sub)")
            }
        }
        if !env.isEmpty { fields["env"] = .object(env.sorted { $0.0 < $1.0 }) }
        let order = ["root", "split_path", "env", "resolve_root_symlink", "dial_timeout", "read_timeout", "write_timeout", "capture_stderr"]
        return .object([("protocol", .string("fastcgi"))] + order.compactMap { k in fields[k].map { (k, $0) } })
    }
}
