/// The config `quantum run` uses without `--config`: a welcome page on :8080.
public enum DefaultConfig {
    public static let json = """
    {
      "apps": {
        "http": {
          "servers": {
            "welcome": {
              "listen": [":8080"],
              "routes": [
                {
                  "handle": [
                    {
                      "handler": "static_response",
                      "status_code": 200,
                      "headers": {"Content-Type": ["text/html; charset=utf-8"]},
                      "body": \(JSONValue.quote(welcomePage))
                    }
                  ]
                }
              ]
            }
          }
        }
      }
    }
    """

    static let welcomePage = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Quantum is running</title>
    <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
    code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
    <body><h1>Quantum is running</h1>
    <p>This is the built-in default config. Serve your own with
    <code>quantum run --config caddy.json</code>: any Caddy v2 JSON config whose modules Quantum has
    (<code>quantum list-modules</code>).</p></body></html>
    """
}
