import QuantumStaticFiles

/// The browser page `file_sync` serves: the synced folder one folder at a time (breadcrumbs),
/// live updates over the WebSocket, upload with progress by bytes (a button or drag and drop),
/// new folder, rename, delete, download, a filter box, conflict copies marked. The look and
/// the SVG icons are `PageLook`'s, as on the `browse` listing; keyboard and screen readers
/// work (real links and buttons, labels, a live status). No external resources.
enum SyncPage {
    static let html = PageLook.page(title: "Quantum file sync", style: """
        #status{font-size:.8rem;padding:.15rem .6rem;border-radius:999px;background:#b42318;color:#fff}
        #status.online{background:#067647}
        #drop{border:2px dashed var(--line);border-radius:10px;padding:1rem;text-align:center;color:var(--muted);margin:0 0 .9rem}
        #drop.over{border-color:var(--accent);color:var(--accent)}
        #transfer{margin:0 0 .9rem}
        #transfer progress{width:100%;height:.6rem}
        .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        """, body: """
        <header class="bar"><h1>Quantum file sync</h1><span id="status" role="status" aria-live="polite">offline</span></header>
        <main>
          <nav class="crumbs" id="crumbs" aria-label="Folders"></nav>
          <div class="tools">
            <label for="filter" class="visually-hidden">Filter this folder</label>
            <input type="search" id="filter" placeholder="Filter this folder" autocomplete="off">
            <button type="button" id="mkdir">\(PageLook.icon(.newFolder)) New folder</button>
            <label class="button" for="picker">\(PageLook.icon(.upload)) Upload</label>
            <input type="file" id="picker" multiple class="visually-hidden">
          </div>
          <div id="drop">Drop files here to upload them into this folder</div>
          <div id="transfer" hidden><div id="transfer-text" aria-live="polite"></div><progress id="transfer-bar" max="1" value="0"></progress></div>
          <table>
            <thead><tr><th class="name">Name</th><th class="size">Size</th><th class="time">Modified</th><th class="actions"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody id="files"></tbody>
          </table>
          <p id="log" class="note" role="status" aria-live="polite"></p>
        </main>
        <script>\(script)</script>
        """)

    static let script = #"""
    "use strict";
    const base = location.pathname.replace(/\/[^\/]*$/, "");
    const clientId = "browser-" + Math.random().toString(36).slice(2, 10);
    let token = localStorage.getItem("quantum-sync-token") || "";
    // The fragment carries the folder (#path=docs) and, once, a token handed over by the server's
    // start-up message (never sent to a server, so never in a request line or a log).
    const fragment = new URLSearchParams(location.hash.slice(1));
    if (fragment.get("token")) {
      token = fragment.get("token");
      localStorage.setItem("quantum-sync-token", token);
      fragment.delete("token");
      history.replaceState(null, "", location.pathname + location.search + (fragment.toString() ? "#" + fragment : ""));
    }
    const files = new Map();
    let lastSeq = 0;
    let folder = "";
    const icon = (name) => '<svg class="icon" aria-hidden="true" focusable="false"><use href="#i-' + name + '"/></svg>';
    const conflictName = / \(conflict [^)]*\)(\.[^.\/]*)?$/;

    function authHeaders(extra) {
      const h = Object.assign({ "X-Client-Id": clientId }, extra || {});
      if (token) h["Authorization"] = "Bearer " + token;
      return h;
    }
    function askToken() {
      token = prompt("Access token") || "";
      localStorage.setItem("quantum-sync-token", token);
    }
    async function api(method, path, body, headers) {
      const r = await fetch(base + "/api/" + path, { method, body, headers: authHeaders(headers) });
      if (r.status === 401) { askToken(); return api(method, path, body, headers); }
      if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + (await r.text()));
      return r;
    }
    function encodePath(p) { return p.split("/").map(encodeURIComponent).join("/"); }
    function join(dir, name) { return dir ? dir + "/" + name : name; }
    function parentOf(p) { const i = p.lastIndexOf("/"); return i < 0 ? "" : p.slice(0, i); }
    function nameOf(p) { return p.slice(p.lastIndexOf("/") + 1); }
    function size(n) {
      if (n < 1024) return n + " B";
      const units = ["KiB", "MiB", "GiB", "TiB"]; let u = -1;
      do { n /= 1024; u++; } while (n >= 1024 && u < units.length - 1);
      return n.toFixed(n < 10 ? 1 : 0) + " " + units[u];
    }
    function note(text) { document.getElementById("log").textContent = text; }
    function el(tag, props, children) {
      const e = document.createElement(tag);
      Object.assign(e, props || {});
      for (const c of children || []) e.append(c);
      return e;
    }
    function iconButton(iconName, label, onclick) {
      const b = el("button", { type: "button", className: "icon-only", title: label, onclick });
      b.setAttribute("aria-label", label);
      b.innerHTML = icon(iconName);
      return b;
    }
    function open(dir) {
      folder = dir;
      const f = new URLSearchParams(); if (dir) f.set("path", dir);
      history.replaceState(null, "", location.pathname + location.search + (dir ? "#" + f : ""));
      render();
    }
    function renderCrumbs() {
      const nav = document.getElementById("crumbs");
      nav.textContent = "";
      const home = el("a", { href: "#" }); home.innerHTML = icon("folder"); home.append(" Home");
      home.onclick = (e) => { e.preventDefault(); open(""); };
      if (!folder) home.setAttribute("aria-current", "page");
      nav.append(home);
      let at = "";
      for (const part of folder ? folder.split("/") : []) {
        at = join(at, part);
        const target = at;
        nav.append(el("span", { className: "sep", textContent: "›" }));
        if (target === folder) { const s = el("span", { textContent: part }); s.setAttribute("aria-current", "page"); nav.append(s); }
        else { const a = el("a", { href: "#path=" + encodeURIComponent(target), textContent: part }); a.onclick = (e) => { e.preventDefault(); open(target); }; nav.append(a); }
      }
    }
    // What `dir` holds: its entries, and folders only implied by deeper paths (an upload to
    // a/b/c.txt makes a and a/b, and only the file's operation is broadcast).
    function entriesIn(dir) {
      const prefix = dir ? dir + "/" : "";
      const out = new Map();
      for (const m of files.values()) {
        if (!m.path.startsWith(prefix)) continue;
        const rest = m.path.slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash < 0) out.set(m.path, m);
        else { const p = prefix + rest.slice(0, slash); if (!out.has(p)) out.set(p, files.get(p) || { path: p, is_directory: true, size: 0, modified: null }); }
      }
      return [...out.values()];
    }
    function render() {
      if (folder && !(files.get(folder) || {}).is_directory && ![...files.keys()].some((k) => k.startsWith(folder + "/"))) folder = "";
      renderCrumbs();
      const body = document.getElementById("files");
      body.textContent = "";
      const q = document.getElementById("filter").value.trim().toLowerCase();
      const here = entriesIn(folder).filter((m) => nameOf(m.path).toLowerCase().includes(q))
        .sort((a, b) => (b.is_directory - a.is_directory) || nameOf(a.path).localeCompare(nameOf(b.path)));
      for (const m of here) {
        const name = nameOf(m.path);
        const tr = el("tr", { className: m.is_directory ? "dir" : "file" });
        tr.dataset.path = m.path;
        const cell = el("td", { className: "name" });
        cell.innerHTML = icon(m.is_directory ? "folder" : "file");
        if (m.is_directory) {
          const a = el("a", { href: "#path=" + encodeURIComponent(m.path), textContent: name });
          a.onclick = (e) => { e.preventDefault(); open(m.path); };
          cell.append(a);
        } else {
          const a = el("a", { href: base + "/api/download/" + encodePath(m.path) + (token ? "?token=" + encodeURIComponent(token) : ""), textContent: name });
          a.setAttribute("download", name);
          cell.append(a);
        }
        if (conflictName.test(name)) {
          const badge = el("span", { className: "badge", title: "Both sides changed this file; this copy kept the other version" });
          badge.innerHTML = icon("conflict"); badge.append(" conflict copy");
          cell.append(badge);
        }
        const actions = el("td", { className: "actions" }, [
          iconButton("rename", "Rename " + name, () => rename(m)),
          iconButton("delete", "Delete " + name, () => remove(m)),
        ]);
        tr.append(cell, el("td", { className: "size", textContent: m.is_directory ? "" : size(m.size) }),
                  el("td", { className: "time", textContent: m.modified ? new Date(m.modified).toLocaleString() : "" }), actions);
        body.append(tr);
      }
      if (!here.length) body.append(el("tr", {}, [el("td", { colSpan: 4, className: "empty", textContent: q ? "Nothing here matches." : "This folder is empty." })]));
    }
    async function rename(m) {
      const to = prompt("New name for " + nameOf(m.path), nameOf(m.path));
      if (!to || to === nameOf(m.path)) return;
      if (to.includes("/")) { note("A name cannot contain /"); return; }
      try {
        await api("POST", "move", JSON.stringify({ from: m.path, to: join(parentOf(m.path), to) }), { "Content-Type": "application/json" });
        note("Renamed " + nameOf(m.path) + " to " + to);
      } catch (e) { note(e.message); }
    }
    async function remove(m) {
      if (!confirm("Delete " + m.path + (m.is_directory ? " and everything in it" : "") + "?")) return;
      try { await api("DELETE", "delete/" + encodePath(m.path)); note("Deleted " + m.path); } catch (e) { note(e.message); }
    }
    async function makeFolder() {
      const name = prompt("Name of the new folder");
      if (!name) return;
      if (name.includes("/")) { note("A name cannot contain /"); return; }
      try { await api("POST", "mkdir/" + encodePath(join(folder, name))); note("Created " + name); } catch (e) { note(e.message); }
    }
    function applyOperation(op) {
      if (op.Create) files.set(op.Create.metadata.path, op.Create.metadata);
      else if (op.Update) files.set(op.Update.metadata.path, op.Update.metadata);
      else if (op.Delete) { for (const k of [...files.keys()]) if (k === op.Delete.path || k.startsWith(op.Delete.path + "/")) files.delete(k); }
      else if (op.Move) {
        const { from, to } = op.Move;
        for (const [k, m] of [...files.entries()]) {
          if (k === from || k.startsWith(from + "/")) { files.delete(k); m.path = to + k.slice(from.length); files.set(m.path, m); }
        }
        if (folder === from || folder.startsWith(from + "/")) folder = to + folder.slice(from.length);
      }
      render();
    }
    async function refresh() {
      const list = await (await api("GET", "list")).json();
      files.clear();
      for (const m of list.files) files.set(m.path, m);
      lastSeq = list.seq;
      render();
    }
    // One file at a time, with its bytes shown as they go (fetch cannot report upload progress).
    function send(file, path) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("PUT", base + "/api/upload/" + encodePath(path));
        for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
        const bar = document.getElementById("transfer-bar"), text = document.getElementById("transfer-text");
        xhr.upload.onprogress = (e) => {
          const total = e.lengthComputable ? e.total : file.size;
          bar.max = Math.max(total, 1); bar.value = e.loaded;
          text.textContent = "Uploading " + file.name + ": " + size(e.loaded) + " of " + size(total);
        };
        xhr.onload = () => {
          if (xhr.status === 401) { askToken(); send(file, path).then(resolve, reject); return; }
          xhr.status < 300 ? resolve() : reject(new Error("upload " + file.name + ": " + xhr.status + " " + xhr.responseText));
        };
        xhr.onerror = () => reject(new Error("upload " + file.name + ": the connection failed"));
        xhr.send(file);
      });
    }
    async function upload(fileList) {
      const transfer = document.getElementById("transfer");
      transfer.hidden = false;
      for (const f of fileList) {
        try { await send(f, join(folder, f.name)); note("Uploaded " + f.name + " (" + size(f.size) + ")"); }
        catch (e) { note(e.message); }
      }
      transfer.hidden = true;
      document.getElementById("picker").value = "";
    }
    function connect(delay) {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(proto + "//" + location.host + base + "/ws" + (token ? "?token=" + encodeURIComponent(token) : ""));
      const status = document.getElementById("status");
      let ping;
      ws.onopen = () => {
        status.textContent = "live"; status.className = "online";
        ws.send(JSON.stringify({ type: "Subscribe", client_id: clientId, since: lastSeq }));
        ping = setInterval(() => ws.send(JSON.stringify({ type: "Ping" })), 20000);
      };
      ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.type === "FileOperation") { if (msg.seq > lastSeq) lastSeq = msg.seq; applyOperation(msg.operation); }
        else if (msg.type === "Ack" && msg.resync) refresh();
        else if (msg.type === "Error") note(msg.message);
      };
      ws.onclose = () => {
        clearInterval(ping);
        status.textContent = "offline"; status.className = "";
        const next = Math.min((delay || 500) * 2, 15000);
        setTimeout(() => connect(next), delay || 500);
      };
    }
    const drop = document.getElementById("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); });
    document.getElementById("picker").addEventListener("change", (e) => upload(e.target.files));
    document.getElementById("mkdir").addEventListener("click", makeFolder);
    document.getElementById("filter").addEventListener("input", render);
    window.addEventListener("hashchange", () => { const p = new URLSearchParams(location.hash.slice(1)).get("path") || ""; if (p !== folder) { folder = p; render(); } });
    folder = fragment.get("path") || "";
    refresh().then(() => connect(500)).catch((e) => note(e.message));
    """#
}
