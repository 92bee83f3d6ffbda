import QuantumCore

/// The look the server's own pages share — the `browse` listing and `file_sync`'s page: one
/// style sheet (light and dark) and icons drawn as inline SVG (no emoji that depend on fonts,
/// no external fonts or files, nothing from a CDN).
package enum PageLook {
    /// Icon names, each a `<symbol id="i-NAME">` in `sprite`.
    package enum Icon: String, CaseIterable, Sendable {
        case folder, file, link, up, upload, newFolder = "new-folder", rename, delete, download, conflict
    }

    /// `<svg class="icon" aria-hidden="true"><use href="#i-folder"/></svg>`: decorative (the
    /// text beside it says what it is).
    package static func icon(_ icon: Icon) -> String {
        "<svg class=\"icon\" aria-hidden=\"true\" focusable=\"false\"><use href=\"#i-\(icon.rawValue)\"/></svg>"
    }

    /// A whole page in this look: `title` (escaped here), the shared style sheet plus `style`,
    /// the icon sprite, then `body` (HTML, as given).
    package static func page(title: String, style: String = "", body: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTML.escape(title))</title>
        <style>\(css)\(style)</style>
        </head>
        <body>\(sprite)
        \(body)
        </body>
        </html>

        """
    }

    /// Every icon as a hidden SVG sprite, to put once at the start of `<body>`.
    package static let sprite = """
    <svg style="display:none">
    <symbol id="i-folder" viewBox="0 0 24 24"><path fill="currentColor" d="M3 6.5A2.5 2.5 0 0 1 5.5 4h4.1l2 2H18.5A2.5 2.5 0 0 1 21 8.5v9a2.5 2.5 0 0 1-2.5 2.5h-13A2.5 2.5 0 0 1 3 17.5z"/></symbol>
    <symbol id="i-file" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" d="M6 3h8l5 5v13H6z M14 3v5h5"/></symbol>
    <symbol id="i-link" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/></symbol>
    <symbol id="i-up" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" d="M12 19V5 M6 11l6-6 6 6"/></symbol>
    <symbol id="i-upload" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" d="M12 16V4 M7 9l5-5 5 5 M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3"/></symbol>
    <symbol id="i-new-folder" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" d="M3 6.5A2.5 2.5 0 0 1 5.5 4h4.1l2 2H18.5A2.5 2.5 0 0 1 21 8.5v9a2.5 2.5 0 0 1-2.5 2.5h-13A2.5 2.5 0 0 1 3 17.5z M12 10v6 M9 13h6"/></symbol>
    <symbol id="i-rename" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" d="M4 20h4L19 9l-4-4L4 16z M13 7l4 4"/></symbol>
    <symbol id="i-delete" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" d="M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13 M10 11v6 M14 11v6"/></symbol>
    <symbol id="i-download" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" d="M12 4v12 M7 11l5 5 5-5 M4 20h16"/></symbol>
    <symbol id="i-conflict" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" d="M12 3l9 16H3z M12 10v4 M12 17v.5"/></symbol>
    </svg>
    """

    /// The shared style sheet (without `<style>`).
    package static let css = """
    :root{color-scheme:light dark;--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--link:#2556c4;--bg:#f6f7f9;--card:#fff;--row:#f2f4f7;--accent:#2556c4;--warn:#b54708}
    @media (prefers-color-scheme:dark){:root{--fg:#e9ecf2;--muted:#98a2b3;--line:#2f3542;--link:#8db1ff;--bg:#12151c;--card:#1a1e27;--row:#222734;--accent:#8db1ff;--warn:#f79009}}
    *{box-sizing:border-box}
    body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
    header.bar{display:flex;align-items:center;gap:.75rem;padding:.8rem 1.4rem;background:var(--card);border-bottom:1px solid var(--line)}
    header.bar h1{font-size:1.05rem;margin:0;font-weight:600;flex:1}
    main{max-width:62rem;margin:0 auto;padding:1.4rem 1rem 3rem}
    nav.crumbs{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem;font-size:1.05rem;margin:0 0 .9rem;word-break:break-all}
    nav.crumbs a{color:var(--link);text-decoration:none}
    nav.crumbs span.sep{color:var(--muted)}
    .tools{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:0 0 .9rem}
    .tools input[type=search]{flex:1;min-width:12rem;font:inherit;padding:.4rem .7rem;border:1px solid var(--line);border-radius:8px;background:var(--card);color:var(--fg)}
    button,.button{display:inline-flex;align-items:center;gap:.35rem;font:inherit;font-size:.9rem;padding:.35rem .7rem;border-radius:8px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;text-decoration:none}
    button:hover,.button:hover{background:var(--row)}
    button:focus-visible,a:focus-visible,input:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
    button.icon-only{padding:.3rem .4rem}
    table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
    th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid var(--line);vertical-align:middle}
    th{font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600}
    th a{color:inherit;text-decoration:none}
    tr:last-child td{border-bottom:0}
    tbody tr:hover td{background:var(--row)}
    td.name a{color:var(--link);text-decoration:none;word-break:break-all}
    td.name{display:flex;align-items:center;gap:.5rem}
    td.size,td.time{color:var(--muted);white-space:nowrap;font-variant-numeric:tabular-nums}
    td.size,th.size{text-align:right}
    td.actions{text-align:right;white-space:nowrap}
    svg.icon{width:1.15em;height:1.15em;flex:none;color:var(--muted)}
    tr.dir svg.icon{color:var(--accent)}
    .badge{font-size:.72rem;padding:.05rem .45rem;border-radius:999px;border:1px solid var(--warn);color:var(--warn);white-space:nowrap}
    p.meta,.note{color:var(--muted);font-size:.9rem}
    .empty{color:var(--muted);text-align:center;padding:1.5rem}
    @media (max-width:640px){td.time,th.time{display:none}}
    """
}
