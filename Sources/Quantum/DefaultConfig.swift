import QuantumCore

/// Configs `quantum` builds itself: the default of `quantum run` and `quantum file-server`.
public enum DefaultConfig {
    /// `quantum run` without `--config`: the files of `public/` when it exists, else of the
    /// working directory, with directory listings, on :8080. Dotfiles (`.git`, `.env`) stay hidden.
    public static func json(workingDirectory: String) -> String {
        let publicDir = workingDirectory + "/public"
        let root = FileIO.isDirectory(publicDir) ? publicDir : workingDirectory
        return fileServer(root: root, listen: ":8080", browse: true, precompressed: false, hide: [".*"], serverName: "default")
    }

    /// A one-server config serving `root` like `caddy file-server`.
    public static func fileServer(root: String, listen: String, browse: Bool, precompressed: Bool, hide: [String] = [],
                                  serverName: String = "static") -> String {
        var handler: [(String, String)] = [("handler", JSONValue.quote("file_server")), ("root", JSONValue.quote(root))]
        if !hide.isEmpty { handler.append(("hide", "[" + hide.map(JSONValue.quote).joined(separator: ", ") + "]")) }
        if browse { handler.append(("browse", "{}")) }
        if precompressed { handler.append(("precompressed", #"{"br": {}, "zstd": {}, "gzip": {}}"#)) }
        let handlerJSON = "{" + handler.map { "\(JSONValue.quote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        return """
        {"apps": {"http": {"servers": {\(JSONValue.quote(serverName)): {
          "listen": [\(JSONValue.quote(listen))],
          "automatic_https": {"disable": true},
          "routes": [{"handle": [\(handlerJSON)]}]
        }}}}}
        """
    }
}
