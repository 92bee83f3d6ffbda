/// The browser page `file_sync` serves: file list with sizes and times, live updates over the
/// WebSocket, drag-and-drop upload, download, delete and a connection indicator. Plain
/// HTML/CSS/JS, no external resources.
enum SyncPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quantum file sync</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { display: flex; align-items: center; gap: 12px; padding: 14px 22px; background: #1d2330; color: #fff; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; flex: 1; }
  #status { font-size: 13px; padding: 3px 10px; border-radius: 12px; background: #8a2a2a; }
  #status.online { background: #2a7a3a; }
  main { max-width: 960px; margin: 22px auto; padding: 0 16px; }
  #drop { border: 2px dashed #9aa3b5; border-radius: 10px; padding: 22px; text-align: center; background: #fff; margin-bottom: 16px; }
  #drop.over { border-color: #2a5bd7; background: #eef3ff; }
  table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 10px; overflow: hidden; }
  th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid #e6e8ee; }
  th { font-size: 12px; text-transform: uppercase; color: #667; background: #fafbfc; }
  td.size, td.time { white-space: nowrap; color: #556; font-variant-numeric: tabular-nums; }
  tr.dir td.name { font-weight: 600; }
  button { font: inherit; font-size: 13px; padding: 3px 9px; border-radius: 6px; border: 1px solid #c5cad6; background: #fff; cursor: pointer; }
  button:hover { background: #f0f2f6; }
  #log { font-size: 12px; color: #667; margin-top: 10px; min-height: 1.4em; }
</style>
</head>
<body>
<header><h1>Quantum file sync</h1><span id="status">offline</span></header>
<main>
  <div id="drop">Drop files here to upload, or <input type="file" id="picker" multiple></div>
  <table>
    <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th></th></tr></thead>
    <tbody id="files"></tbody>
  </table>
  <div id="log"></div>
</main>
<script>
"use strict";
const base = location.pathname.replace(/\/[^\/]*$/, "");
const clientId = "browser-" + Math.random().toString(36).slice(2, 10);
let token = localStorage.getItem("quantum-sync-token") || "";
// A token handed over in the URL's fragment (never sent to a server, so never in a request line
// or a log) is kept, then taken out of the address bar.
const handed = new URLSearchParams(location.hash.slice(1)).get("token");
if (handed) {
  token = handed;
  localStorage.setItem("quantum-sync-token", token);
  history.replaceState(null, "", location.pathname + location.search);
}
const files = new Map();
let lastSeq = 0;

function authHeaders(extra) {
  const h = Object.assign({ "X-Client-Id": clientId }, extra || {});
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}
async function api(method, path, body, headers) {
  const r = await fetch(base + "/api/" + path, { method, body, headers: authHeaders(headers) });
  if (r.status === 401) {
    token = prompt("Access token") || "";
    localStorage.setItem("quantum-sync-token", token);
    return api(method, path, body, headers);
  }
  if (!r.ok) throw new Error(method + " " + path + ": " + r.status + " " + (await r.text()));
  return r;
}
function encodePath(p) { return p.split("/").map(encodeURIComponent).join("/"); }
function size(n) {
  if (n < 1024) return n + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"]; let u = -1;
  do { n /= 1024; u++; } while (n >= 1024 && u < units.length - 1);
  return n.toFixed(n < 10 ? 1 : 0) + " " + units[u];
}
function note(text) { document.getElementById("log").textContent = text; }
function render() {
  const body = document.getElementById("files");
  body.textContent = "";
  for (const m of [...files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    const tr = document.createElement("tr");
    tr.className = m.is_directory ? "dir" : "file";
    tr.dataset.path = m.path;
    const name = document.createElement("td"); name.className = "name";
    if (m.is_directory) { name.textContent = m.path + "/"; }
    else {
      const a = document.createElement("a");
      a.href = base + "/api/download/" + encodePath(m.path) + (token ? "?token=" + encodeURIComponent(token) : "");
      a.textContent = m.path; a.setAttribute("download", m.path.split("/").pop());
      name.appendChild(a);
    }
    const sz = document.createElement("td"); sz.className = "size"; sz.textContent = m.is_directory ? "" : size(m.size);
    const tm = document.createElement("td"); tm.className = "time"; tm.textContent = new Date(m.modified).toLocaleString();
    const act = document.createElement("td");
    const del = document.createElement("button"); del.textContent = "Delete";
    del.onclick = async () => {
      if (!confirm("Delete " + m.path + "?")) return;
      try { await api("DELETE", "delete/" + encodePath(m.path)); } catch (e) { note(e.message); }
    };
    act.appendChild(del);
    tr.append(name, sz, tm, act);
    body.appendChild(tr);
  }
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
async function upload(fileList) {
  for (const f of fileList) {
    note("Uploading " + f.name + "…");
    try { await api("PUT", "upload/" + encodePath(f.name), f); note("Uploaded " + f.name); }
    catch (e) { note(e.message); }
  }
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
refresh().then(() => connect(500)).catch((e) => note(e.message));
</script>
</body>
</html>
"""#
}
