import Glibc
import QuantumCore

/// What `quantum run` serves with no config, safe by default: two sites on this machine's
/// loopback only — files (`./public`, else a welcome page; never the working directory's own
/// listing) and a synced folder (`./sync-data`). Opening them to the network is a choice
/// (`--listen HOST`), and then the sync site, which can write files, asks for a token.
public struct DefaultSites: Sendable {
    /// The hosts both sites listen on (IP literals or names, no port).
    public let hosts: [String]
    /// Where `public` and `sync-data` are looked for (the directory `quantum run` started in).
    public let workingDirectory: String
    /// The files site's port (8080; tests choose free ones).
    public let filesPort: Int
    /// The sync site's port (8081).
    public let syncPort: Int
    /// The sync site's token: only when listening beyond loopback.
    public let token: SyncToken?

    /// `listen`: `--listen HOST`, nil for loopback (127.0.0.1, and ::1 where the machine has IPv6);
    /// `dataDirectory`: where the token is kept (nil: Quantum's data directory).
    public init(workingDirectory: String, listen: String?, filesPort: Int = 8080, syncPort: Int = 8081,
                dataDirectory: String? = nil) throws {
        self.workingDirectory = workingDirectory
        self.filesPort = filesPort
        self.syncPort = syncPort
        if let listen {
            hosts = [try Self.checkedHost(listen)]
        } else {
            hosts = Self.hasIPv6Loopback() ? ["127.0.0.1", "::1"] : ["127.0.0.1"]
        }
        token = hosts.allSatisfy(Self.isLoopback) ? nil : try SyncToken.loadOrCreate(in: dataDirectory ?? DataDirectory.resolve())
    }

    var publicDirectory: String? {
        let path = workingDirectory + "/public"
        return FileIO.isDirectory(path) ? path : nil
    }

    var syncRoot: String { workingDirectory + "/sync-data" }

    /// The config, as Caddy JSON.
    public func json() -> String {
        func listen(_ port: Int) -> String {
            "[" + hosts.map { JSONValue.quote(($0.contains(":") ? "[\($0)]" : $0) + ":\(port)") }.joined(separator: ", ") + "]"
        }
        let files: String
        if let publicDirectory {
            files = #"{"handler": "file_server", "root": \#(JSONValue.quote(publicDirectory)), "hide": [".*"], "browse": {}}"#
        } else {
            files = #"{"handler": "static_response", "headers": {"Content-Type": ["text/html; charset=utf-8"]}, "body": \#(JSONValue.quote(welcomePage))}"#
        }
        let tokens = token.map { ", \"tokens\": [\(JSONValue.quote($0.value))]" } ?? ""
        let sync = #"{"handler": "file_sync", "root": \#(JSONValue.quote(syncRoot)), "enable_upload": true, "ignore": [".git/"]\#(tokens)}"#
        return """
        {"apps": {"http": {"servers": {
          "default": {
            "listen": \(listen(filesPort)),
            "automatic_https": {"disable": true},
            "routes": \(routes(files))
          },
          "sync": {
            "listen": \(listen(syncPort)),
            "automatic_https": {"disable": true},
            "routes": \(routes(sync))
          }
        }}}}
        """
    }

    /// On loopback, a site answers only requests for a loopback name: a web page whose name
    /// its owner points at 127.0.0.1 (DNS rebinding) gets 421, not the folder. Listening
    /// beyond loopback, the sync site has its token instead.
    private func routes(_ handler: String) -> String {
        guard hosts.allSatisfy(Self.isLoopback) else { return "[{\"handle\": [\(handler)]}]" }
        return """
        [{"match": [{"host": ["localhost", "127.0.0.1", "::1"]}], "handle": [\(handler)], "terminal": true},
         {"handle": [{"handler": "static_response", "status_code": 421, "body": "This server answers for localhost only.\\n"}]}]
        """
    }

    /// What a person starting it reads: where the sites are, and how to change that. The token
    /// is shown (in the URL's fragment, which browsers never send) only when it was just made.
    public func announcement() -> [String] {
        let shown = hosts.map { Self.isWildcard($0) ? "localhost" : ($0.contains(":") ? "[\($0)]" : $0) }.first ?? "localhost"
        var lines: [String] = []
        lines.append(hosts.allSatisfy(Self.isLoopback)
            ? "Serving on this machine only (loopback); quantum run --listen 0.0.0.0 opens it to the network:"
            : "Serving on \(hosts.joined(separator: ", ")), reachable from the network:")
        let files = publicDirectory.map { "the files of \($0)" } ?? "a welcome page (make ./public to serve a folder)"
        lines.append("  http://\(shown):\(filesPort)/  \(files)")
        var sync = "http://\(shown):\(syncPort)/"
        if let token, token.isNew { sync += "#token=" + token.value }
        lines.append("  \(sync)  the sync page of \(syncRoot)")
        if let token {
            lines.append(token.isNew
                ? "The sync site needs its token (kept in \(token.path)); the URL above carries it."
                : "The sync site needs its token: open the page with #token=<the token in \(token.path)>.")
        }
        return lines
    }

    // MARK: - Hosts

    /// `--listen`'s host: an IP address or a name, without a port (the ports are the sites').
    static func checkedHost(_ text: String) throws -> String {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let isIP = SocketAddress(ip: host, port: 0) != nil
        guard !host.isEmpty, isIP || (!host.contains(":") && !host.contains("/") && !host.contains(" ")) else {
            throw QuantumCommand.UsageError(message: "--listen takes a host without a port (0.0.0.0, ::, 192.168.1.5 or a name), not \"\(text)\"")
        }
        return host
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        guard let address = SocketAddress(ip: host, port: 0) else { return false }
        let bytes = address.bytes
        return bytes.count == 4 ? bytes[0] == 127 : bytes == Array(repeating: 0, count: 15) + [1]
    }

    static func isWildcard(_ host: String) -> Bool { host == "0.0.0.0" || host == "::" }

    /// Whether [::1] can be listened on (containers often run without IPv6).
    static func hasIPv6Loopback() -> Bool {
        guard let address = SocketAddress(ip: "::1", port: 0), let fd = try? Sockets.listen(address) else { return false }
        Glibc.close(fd)
        return true
    }
}
