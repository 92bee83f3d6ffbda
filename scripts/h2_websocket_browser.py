#!/usr/bin/env python3
"""Headless Chromium opens a WebSocket over HTTP/2 (RFC 8441) to Quantum over TLS.

Starts `quantum run` (default .build/debug/quantum) with a throwaway self-signed certificate
for 127.0.0.1 and a config whose `/echo` route claims WebSockets only over HTTP/2 (a
`protocol` matcher): an HTTP/1.1 upgrade gets the page instead of a 101, so the echo can only
come back if the browser carried the WebSocket on its h2 connection. The page loads over h2
first (Chromium only uses extended CONNECT on an existing h2 connection whose SETTINGS allow
it), opens wss://.../echo, sends a message and shows the echo.

Needs: Debian chromium + chromium-driver, PyPI selenium (scripts/deps.sh sets both up).
Usage: h2_websocket_browser.py [--quantum PATH] [--flags "--enable-features=..."]
Prints '1 passed, 0 failed' (exit 0) or '0 passed, 1 failed' (exit 1).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>h2 ws</title></head><body>
<p>page over <span id="proto">{http.request.proto}</span></p>
<p>status: <span id="status">starting</span> echo: <span id="out"></span></p>
<script>
const ws = new WebSocket("wss://" + location.host + "/echo");
ws.onopen = () => { document.getElementById("status").textContent = "open"; ws.send("over h2 ✓"); };
ws.onmessage = (ev) => { document.getElementById("out").textContent = ev.data;
  document.getElementById("status").textContent = "echoed"; ws.close(1000, "done"); };
ws.onerror = () => { document.getElementById("status").textContent = "error"; };
</script></body></html>"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quantum", default=os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "quantum"))
    ap.add_argument("--flags", default="", help="extra Chromium flags, space-separated")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="quantum-h2ws-")
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    config = {"apps": {"tls": {"certificates": {"load_files": [{"certificate": cert, "key": key}]}},
                       "http": {"servers": {"s": {
                           "listen": [f"127.0.0.1:{port}"], "tls_connection_policies": [{}],
                           "automatic_https": {"disable": True},
                           "routes": [
                               {"match": [{"path": ["/echo"], "protocol": "http/2"}],
                                "handle": [{"handler": "websocket_echo"}], "terminal": True},
                               {"handle": [{"handler": "static_response", "body": PAGE,
                                            "headers": {"Content-Type": ["text/html; charset=utf-8"]}}]}]}}}}}
    config_path = os.path.join(work, "config.json")
    with open(config_path, "w") as f:
        json.dump(config, f)
    server = subprocess.Popen([args.quantum, "run", "--config", config_path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = False
    driver = None
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        options = Options()
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--ignore-certificate-errors"] + args.flags.split():
            options.add_argument(flag)
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
        driver.set_page_load_timeout(20)
        driver.get(f"https://127.0.0.1:{port}/")
        deadline = time.time() + 10
        status = ""
        while time.time() < deadline:
            status = driver.find_element(By.ID, "status").text
            if status in ("echoed", "error"):
                break
            time.sleep(0.1)
        proto = driver.find_element(By.ID, "proto").text
        out = driver.find_element(By.ID, "out").text
        print(f"page over {proto}; WebSocket status {status}; echo {out!r}")
        ok = proto == "HTTP/2.0" and status == "echoed" and out == "over h2 ✓"
    except Exception as e:  # noqa: BLE001 — report, then clean up
        print(f"error: {type(e).__name__}: {e}")
    finally:
        if driver:
            driver.quit()
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
