import QuantumCore

extension DefaultSites {
    /// The files site's page when there is no `./public`: what Quantum is, where the sync page
    /// is, how to serve a folder. Self-contained (no fonts, scripts or images from elsewhere).
    var welcomePage: String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Quantum is running</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #1d2433; }
          h1 { font-size: 1.6rem; margin-bottom: .25rem; }
          p.lead { color: #4a5468; margin-top: 0; }
          code, pre { font-family: ui-monospace, monospace; background: #f1f3f7; border-radius: 4px; }
          code { padding: .1rem .3rem; }
          pre { padding: .75rem 1rem; overflow-x: auto; }
          a { color: #2556c4; }
          section { margin-top: 1.75rem; }
          @media (prefers-color-scheme: dark) {
            body { background: #141821; color: #e3e7ef; } p.lead { color: #a5afc2; }
            code, pre { background: #222838; } a { color: #8db1ff; }
          }
        </style>
        </head>
        <body>
        <main>
          <h1>Quantum is running</h1>
          <p class="lead">A web server in Swift that runs Caddy's JSON configs: static files, reverse proxy, and folders kept in sync live.</p>
          <section>
            <h2>Your synced folder</h2>
            <p>The files of <code>\(HTML.escape(syncRoot))</code> are on the <a id="sync" href="/">sync page</a> (port \(syncPort)):
            upload, download and watch changes arrive as they happen.</p>
          </section>
          <section>
            <h2>Serve a folder</h2>
            <p>Make a folder named <code>public</code> here and start again: its files are served on this port. Or serve any folder:</p>
            <pre>quantum file-server --root ~/site --browse --listen 127.0.0.1:8000</pre>
            <p>For your own sites, write a Caddy JSON config and run <code>quantum run --config site.json</code>.</p>
          </section>
          <section>
            <h2>Only this machine can see this</h2>
            <p>Without a config, Quantum listens on loopback only. <code>quantum run --listen 0.0.0.0</code> opens both sites to the network, and the sync site then asks for a token.</p>
          </section>
        </main>
        <script>
          const sync = new URL(location.href);
          sync.port = "\(syncPort)"; sync.pathname = "/"; sync.search = ""; sync.hash = "";
          document.getElementById("sync").href = sync.href;
        </script>
        </body>
        </html>

        """
    }
}
