#!/usr/bin/env python3
"""Reloads under load, side by side: caddy and Quantum each serve a small config while wrk keeps
keep-alive connections busy and the admin API gets POST /load, alternating two configs. Reports
the requests served, the failed ones (wrk's socket errors plus non-2xx answers) and the reloads
that succeeded. Caddy 2.6.2 resets idle keep-alive connections on reload; Quantum should fail none.

  Benchmarks/reload.py [--quantum PATH] [--duration 15] [--reloads 10] [--conns 4] [--rounds 1]
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(port, admin, body):
    return json.dumps({"admin": {"listen": f"127.0.0.1:{admin}", "config": {"persist": False}},
                       "logging": {"logs": {"default": {"level": "ERROR"}}},
                       "apps": {"http": {"servers": {"srv0": {"listen": [f"127.0.0.1:{port}"], "automatic_https": {"disable": True},
                                                              "routes": [{"handle": [{"handler": "static_response", "body": body}]}]}}}}})


def load(admin, body):
    request = urllib.request.Request(f"http://127.0.0.1:{admin}/load", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{admin}"})
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_ready(port, limit=15):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"http://127.0.0.1:{port}/", timeout=1) as a:
                if a.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def measure(name, argv_for, args, run):
    port, admin = free_port(), free_port()
    configs = [config(port, admin, "A" * 13), config(port, admin, "B" * 13)]
    first = run / f"{name}.json"
    first.write_text(configs[0])
    env = dict(os.environ, HOME=str(run), XDG_DATA_HOME=str(run / "data"), XDG_CONFIG_HOME=str(run / "config"))
    server = subprocess.Popen(argv_for(str(first)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        if not wait_ready(port):
            return {"server": name, "error": "did not start"}
        done = []

        def reloads():
            time.sleep(1)
            gap = (args.duration - 2) / args.reloads
            for i in range(args.reloads):
                done.append(load(admin, configs[(i + 1) % 2]))
                time.sleep(gap)

        thread = threading.Thread(target=reloads)
        thread.start()
        out = subprocess.run(["wrk", "-t1", f"-c{args.conns}", f"-d{args.duration}s", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True).stdout
        thread.join()
        requests = int(re.search(r"(\d+) requests in", out)[1])
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        failed = (sum(map(int, sock.groups())) if sock else 0) + (int(non2xx[1]) if non2xx else 0)
        return {"server": name, "requests": requests, "failed": failed, "reloads_ok": sum(done), "reloads": len(done)}
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=10)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quantum", default=".build/release/quantum")
    p.add_argument("--duration", type=int, default=15)
    p.add_argument("--reloads", type=int, default=10)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()
    run = __import__("pathlib").Path(tempfile.mkdtemp(prefix="quantum-reload."))
    peers = [("quantum", lambda c: [os.path.abspath(args.quantum), "run", "--config", c])]
    if shutil.which("caddy"):
        peers.insert(0, ("caddy", lambda c: ["caddy", "run", "--config", c]))
    try:
        print(f"{args.conns} keep-alive connections (wrk -t1), {args.duration} s, {args.reloads} POST /load alternating two configs")
        print("| round | server | requests | failed | reloads ok |\n|---|---|---:|---:|---:|")
        for rnd in range(1, args.rounds + 1):
            for name, argv_for in peers:
                r = measure(name, argv_for, args, run)
                if "error" in r:
                    print(f"| {rnd} | {name} | – | – | {r['error']} |")
                else:
                    print(f"| {rnd} | {name} | {r['requests']:,} | {r['failed']} | {r['reloads_ok']}/{r['reloads']} |", flush=True)
    finally:
        shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    main()
