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

    /// The listing page: breadcrumbs, a filter box and local times when scripts run (the page
    /// works without them), icons from `PageLook`.
    func html() -> String {
        var rows = ""
        if path != "/" {
            rows += "<tr class=\"up\"><td class=\"name\">\(PageLook.icon(.up))<a href=\"../\">Up</a></td><td class=\"size\"></td><td class=\"time\"></td></tr>\n"
        }
        for item in items {
            let name = item.name + (item.isDirectory ? "/" : "")
            let href = "./" + PathCodec.escapePath(item.name) + (item.isDirectory ? "/" : "")
            let icon = PageLook.icon(item.isDirectory ? .folder : (item.isSymlink ? .link : .file))
            rows += "<tr class=\"\(item.isDirectory ? "dir" : "file")\" data-name=\"\(HTML.escape(item.name.lowercased()))\">"
                + "<td class=\"name\">\(icon)<a href=\"\(HTML.escape(href))\">\(HTML.escape(name))</a></td>"
                + "<td class=\"size\">\(item.isDirectory ? "—" : Self.humanSize(item.size))</td>"
                + "<td class=\"time\"><time datetime=\"\(RFC3339.format(epochSeconds: item.mtimeSeconds))\">"
                + "\(HTTPDate.format(epochSeconds: item.mtimeSeconds))</time></td></tr>\n"
        }
        func header(_ label: String, _ key: String, _ cls: String) -> String {
            let next = sortBy == key && ascending ? "desc" : "asc"
            let mark = sortBy == key ? (ascending ? " ▲" : " ▼") : ""
            let sort = sortBy == key ? " aria-sort=\"\(ascending ? "ascending" : "descending")\"" : ""
            return "<th class=\"\(cls)\"\(sort)><a href=\"?sort=\(key)&amp;order=\(next)\">\(label)\(mark)</a></th>"
        }
        let dirs = items.filter(\.isDirectory).count
        return PageLook.page(title: "Index of \(path)", body: """
        <main>
        <nav class="crumbs" aria-label="Folders">\(breadcrumbs())</nav>
        <div class="tools" id="tools" hidden><label for="filter" class="note">Filter</label>
        <input type="search" id="filter" placeholder="Type to filter this folder" autocomplete="off"></div>
        <p class="meta">\(dirs) folder\(dirs == 1 ? "" : "s"), \(items.count - dirs) file\(items.count - dirs == 1 ? "" : "s")</p>
        <table><thead><tr>\(header("Name", "name", "name"))\(header("Size", "size", "size"))\(header("Modified", "time", "time"))</tr></thead>
        <tbody id="rows">
        \(rows)</tbody></table>
        </main>
        <script>
        "use strict";
        for (const t of document.querySelectorAll("time[datetime]")) t.textContent = new Date(t.getAttribute("datetime")).toLocaleString();
        const filter = document.getElementById("filter");
        document.getElementById("tools").hidden = false;
        filter.addEventListener("input", () => {
          const q = filter.value.trim().toLowerCase();
          for (const row of document.querySelectorAll("#rows tr[data-name]")) row.hidden = q !== "" && !row.dataset.name.includes(q);
        });
        </script>
        """)
    }

    /// `/ › docs › 2026 ›` with a link on each folder above this one.
    private func breadcrumbs() -> String {
        let parts = path.split(separator: "/").map(String.init)
        let home = parts.isEmpty ? "./" : String(repeating: "../", count: parts.count)
        var out = "<a href=\"\(home)\">\(PageLook.icon(.folder)) Home</a>"
        for (i, part) in parts.enumerated() {
            let up = parts.count - i - 1
            out += "<span class=\"sep\" aria-hidden=\"true\">›</span>"
            out += up == 0 ? "<span aria-current=\"page\">\(HTML.escape(part))</span>"
                : "<a href=\"\(String(repeating: "../", count: up))\">\(HTML.escape(part))</a>"
        }
        return out
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
