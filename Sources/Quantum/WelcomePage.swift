import QuantumCore
import QuantumStaticFiles

extension DefaultSites {
    /// The files site's page when there is no `./public`: what Quantum is, where the sync page
    /// is, how to serve a folder. Self-contained (no fonts, scripts or images from elsewhere).
    var welcomePage: String {
        PageLook.page(title: "Quantum is running", style: """
            main{max-width:42rem}
            h1{font-size:1.6rem;margin:0 0 .25rem}
            h2{font-size:1.1rem;margin:1.75rem 0 .4rem}
            p.lead{color:var(--muted);margin-top:0}
            code,pre{font-family:ui-monospace,monospace;background:var(--row);border-radius:4px}
            code{padding:.1rem .3rem}
            pre{padding:.75rem 1rem;overflow-x:auto}
            a{color:var(--link)}
            """, body: """
            <main>
              <h1>Quantum is running</h1>
              <p class="lead">A web server in Swift that runs Caddy's JSON configs: static files, reverse proxy, and folders kept in sync live.</p>
              <h2>Your synced folder</h2>
              <p>The files of <code>\(HTML.escape(syncRoot))</code> are on the <a id="sync" href="/">sync page</a> (port \(syncPort)):
              upload, download and watch changes arrive as they happen.</p>
              <h2>Serve a folder</h2>
              <p>Make a folder named <code>public</code> here and start again: its files are served on this port. Or serve any folder:</p>
              <pre>quantum file-server --root ~/site --browse --listen 127.0.0.1:8000</pre>
              <p>For your own sites, write a Caddy JSON config and run <code>quantum run --config site.json</code>.</p>
              <h2>Only this machine can see this</h2>
              <p>Without a config, Quantum listens on loopback only. <code>quantum run --listen 0.0.0.0</code> opens both sites to the network, and the sync site then asks for a token.</p>
            </main>
            <script>
              const sync = new URL(location.href);
              sync.port = "\(syncPort)"; sync.pathname = "/"; sync.search = ""; sync.hash = "";
              document.getElementById("sync").href = sync.href;
            </script>
            """)
    }
}
