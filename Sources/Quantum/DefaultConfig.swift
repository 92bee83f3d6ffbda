import QuantumReverseProxy
import QuantumCore

/// Configs the one-command servers build (`quantum file-server`, `quantum reverse-proxy`); the
/// default of `quantum run` is `DefaultSites`.
public enum DefaultConfig {
    /// The one-command servers (`file-server`, `reverse-proxy`) run without an admin API and
    /// save nothing, as Caddy's do.
    static let noAdmin = #"{"disabled": true, "config": {"persist": false}}"#

    /// A one-server config serving `root` like `caddy file-server`.
    public static func fileServer(root: String, listen: String, browse: Bool, precompressed: Bool, hide: [String] = [],
                                  serverName: String = "static") -> String {
        var handler: [(String, String)] = [("handler", JSONValue.quote("file_server")), ("root", JSONValue.quote(root))]
        if !hide.isEmpty { handler.append(("hide", "[" + hide.map(JSONValue.quote).joined(separator: ", ") + "]")) }
        if browse { handler.append(("browse", "{}")) }
        if precompressed { handler.append(("precompressed", #"{"br": {}, "zstd": {}, "gzip": {}}"#)) }
        let handlerJSON = "{" + handler.map { "\(JSONValue.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        return """
        {"admin": \(noAdmin), "apps": {"http": {"servers": {\(JSONValue.quote(serverName)): {
          "listen": [\(JSONValue.quote(listen))],
          "automatic_https": {"disable": true},
          "routes": [{"handle": [\(handlerJSON)]}]
        }}}}}
        """
    }

    /// A one-server config proxying `from` to the `to` upstreams, like `caddy reverse-proxy`.
    /// `from` is `[http://][host]:port` (a host adds a host matcher); each `to` is
    /// `[http://]host[:port]` (port 80 by default; `:port` means 127.0.0.1).
    public static func reverseProxy(from: String, to: [String], policy: String?, changeHostHeader: Bool,
                                    headerUp: [(String, String)], headerDown: [(String, String)]) throws -> String {
        guard !to.isEmpty else { throw QuantumCommand.UsageError(message: "reverse-proxy needs at least one --to HOST:PORT") }
        func stripScheme(_ s: String) throws -> String {
            if s.lowercased().hasPrefix("https://") { throw QuantumCommand.UsageError(message: "\(s): https upstreams are not supported yet") }
            var rest = s.lowercased().hasPrefix("http://") ? String(s.dropFirst(7)) : s
            if rest.hasSuffix("/") { rest.removeLast() }
            return rest
        }
        let fromAddress = try stripScheme(from)
        let fromSplit = HostPort.split(fromAddress)
        let listenPort = fromSplit.port.isEmpty ? "80" : fromSplit.port
        guard let port = Int(listenPort), (0...65535).contains(port) else {
            throw QuantumCommand.UsageError(message: "invalid --from address \"\(from)\"")
        }
        let isName = !fromSplit.host.isEmpty && SocketAddress(ip: fromSplit.host, port: 0) == nil
        let listen = isName || fromSplit.host.isEmpty ? ":\(listenPort)" : (fromSplit.host.contains(":") ? "[\(fromSplit.host)]:\(listenPort)" : "\(fromSplit.host):\(listenPort)")
        var upstreams: [String] = []
        for target in to {
            let address = try stripScheme(target)
            var split = HostPort.split(address)
            if split.host.isEmpty { split.host = "127.0.0.1" }
            if split.port.isEmpty { split.port = "80" }
            guard let p = Int(split.port), (1...65535).contains(p) else {
                throw QuantumCommand.UsageError(message: "invalid --to address \"\(target)\"")
            }
            let host = split.host.contains(":") ? "[\(split.host)]" : split.host
            upstreams.append(#"{"dial": \#(JSONValue.quote("\(host):\(p)"))}"#)
        }
        var handler = [#""handler": "reverse_proxy""#, #""upstreams": [\#(upstreams.joined(separator: ", "))]"#]
        if let policy {
            guard SelectionPolicy.names.contains(policy) else {
                throw QuantumCommand.UsageError(message: "unknown --lb policy \"\(policy)\"; known: \(SelectionPolicy.names.joined(separator: ", "))")
            }
            handler.append(#""load_balancing": {"selection_policy": {"policy": \#(JSONValue.quote(policy))}}"#)
        }
        var up = headerUp
        if changeHostHeader { up.append(("Host", "{http.reverse_proxy.upstream.hostport}")) }
        func ops(_ list: [(String, String)]) -> String {
            var grouped: [(String, [String])] = []
            for (name, value) in list {
                if let i = grouped.firstIndex(where: { $0.0 == name }) { grouped[i].1.append(value) } else { grouped.append((name, [value])) }
            }
            return #"{"set": {"# + grouped.map { "\(JSONValue.quote($0.0)): [\($0.1.map(JSONValue.quote).joined(separator: ", "))]" }.joined(separator: ", ") + "}}"
        }
        var headers: [String] = []
        if !up.isEmpty { headers.append(#""request": \#(ops(up))"#) }
        if !headerDown.isEmpty { headers.append(#""response": \#(ops(headerDown))"#) }
        if !headers.isEmpty { handler.append(#""headers": {\#(headers.joined(separator: ", "))}"#) }
        let match = isName ? #""match": [{"host": [\#(JSONValue.quote(fromSplit.host))]}], "# : ""
        return """
        {"admin": \(noAdmin), "apps": {"http": {"servers": {"proxy": {
          "listen": [\(JSONValue.quote(listen))],
          "automatic_https": {"disable": true},
          "routes": [{\(match)"handle": [{\(handler.joined(separator: ", "))}]}]
        }}}}}
        """
    }
}
