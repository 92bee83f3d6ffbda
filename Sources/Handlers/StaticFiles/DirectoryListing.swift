import QuantumCore

/// `browse`: a directory listing as an HTML page (no JavaScript needed) or, for clients that
/// ask for `application/json`, Caddy's JSON array.
public struct BrowseConfig: Decodable, Sendable {
    public var templateFile: String?
    public var revealSymlinks: Bool?
    public var sort: [String]?
    public var fileLimit: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case templateFile = "template_file", revealSymlinks = "reveal_symlinks", sort, fileLimit = "file_limit"
    }
}

struct DirectoryListing {
    let path: String
    let items: [DirectoryItem]
    let sortBy: String
    let ascending: Bool

    /// Items sorted by `?sort=name|namedirfirst|size|time&order=asc|desc` (default: name, folders first).
    init(path: String, items: [DirectoryItem], request: Request, config: BrowseConfig) {
        let defaults = config.sort ?? []
        let sortBy = request.queryValues("sort").first ?? defaults.first ?? "namedirfirst"
        let order = request.queryValues("order").first ?? (defaults.count > 1 ? defaults[1] : "asc")
        var sorted = items
        switch sortBy {
        // Folders before files, as in Caddy: their own size is the file system's business.
        case "size": sorted.sort { ($0.isDirectory ? -1 : $0.size, $0.name) < ($1.isDirectory ? -1 : $1.size, $1.name) }
        case "time": sorted.sort { ($0.mtimeSeconds, $0.name) < ($1.mtimeSeconds, $1.name) }
        case "name": sorted.sort { $0.name.lowercased() < $1.name.lowercased() }
        default: sorted.sort { ($0.isDirectory ? 0 : 1, $0.name.lowercased()) < ($1.isDirectory ? 0 : 1, $1.name.lowercased()) }
        }
        if order == "desc" { sorted.reverse() }
        if let limit = config.fileLimit, limit > 0, sorted.count > limit { sorted = Array(sorted.prefix(limit)) }
        self.path = path
        self.items = sorted
        self.sortBy = sortBy
        self.ascending = order != "desc"
    }

    func json() -> String {
        let entries = items.map { item -> String in
            let url = "./" + PathCodec.escapePath(item.name) + (item.isDirectory ? "/" : "")
            let mode = UInt32(item.mode & 0o777) | (item.isDirectory ? 1 << 31 : 0) | (item.isSymlink ? 1 << 27 : 0)
            return "{\"name\":\(JSONValue.quote(item.name + (item.isDirectory ? "/" : ""))),\"size\":\(item.size),"
                + "\"url\":\(JSONValue.quote(url)),\"mod_time\":\(JSONValue.quote(RFC3339.format(epochSeconds: item.mtimeSeconds))),"
                + "\"mode\":\(mode),\"is_dir\":\(item.isDirectory),\"is_symlink\":\(item.isSymlink)}"
        }
        return "[" + entries.joined(separator: ",") + "]"
    }

    func html() -> String {
        let title = HTML.escape(path)
        var rows = ""
        if path != "/" { rows += "<tr><td class=\"name\"><a href=\"../\">⬑ Up</a></td><td></td><td></td></tr>\n" }
        for item in items {
            let name = item.name + (item.isDirectory ? "/" : "")
            let href = "./" + PathCodec.escapePath(item.name) + (item.isDirectory ? "/" : "")
            let icon = item.isDirectory ? "📁" : (item.isSymlink ? "🔗" : "📄")
            rows += "<tr><td class=\"name\"><a href=\"\(HTML.escape(href))\">\(icon) \(HTML.escape(name))</a></td>"
                + "<td class=\"size\">\(item.isDirectory ? "—" : Self.humanSize(item.size))</td>"
                + "<td class=\"time\"><time datetime=\"\(RFC3339.format(epochSeconds: item.mtimeSeconds))\">"
                + "\(HTTPDate.format(epochSeconds: item.mtimeSeconds))</time></td></tr>\n"
        }
        func header(_ label: String, _ key: String) -> String {
            let next = sortBy == key && ascending ? "desc" : "asc"
            let mark = sortBy == key ? (ascending ? " ▲" : " ▼") : ""
            return "<th><a href=\"?sort=\(key)&amp;order=\(next)\">\(label)\(mark)</a></th>"
        }
        let dirs = items.filter(\.isDirectory).count
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Index of \(title)</title>
        <style>
        :root{color-scheme:light dark;--fg:#1d1d1f;--muted:#6e6e73;--line:#e5e5ea;--link:#0066cc;--bg:#fff;--row:#f5f5f7}
        @media (prefers-color-scheme:dark){:root{--fg:#f5f5f7;--muted:#a1a1a6;--line:#38383a;--link:#4da3ff;--bg:#1c1c1e;--row:#2c2c2e}}
        body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg)}
        main{max-width:60rem;margin:0 auto;padding:2rem 1rem}
        h1{font-size:1.4rem;font-weight:600;word-break:break-all;margin:0 0 .25rem}
        p.meta{color:var(--muted);margin:0 0 1.5rem}
        table{width:100%;border-collapse:collapse}
        th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line)}
        th a{color:var(--muted);text-decoration:none;font-weight:500}
        tr:hover td{background:var(--row)}
        td.name a{color:var(--link);text-decoration:none;word-break:break-all}
        td.size,td.time{color:var(--muted);white-space:nowrap}
        td.size,th:nth-child(2){text-align:right}
        @media (max-width:600px){td.time,th:nth-child(3){display:none}}
        </style></head>
        <body><main>
        <h1>Index of \(title)</h1>
        <p class="meta">\(dirs) folder\(dirs == 1 ? "" : "s"), \(items.count - dirs) file\(items.count - dirs == 1 ? "" : "s")</p>
        <table><thead><tr>\(header("Name", "name"))\(header("Size", "size"))\(header("Modified", "time"))</tr></thead>
        <tbody>
        \(rows)</tbody></table>
        </main></body></html>
        """
    }

    static func humanSize(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(n) B" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[unit])"
    }
}
