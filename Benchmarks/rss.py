#!/usr/bin/env python3
"""Idle RSS and RSS under 1,000 keep-alive connections of a Quantum binary (and nginx for reference).

Usage: rss.py QUANTUM_BINARY CONFIG   (the config listens on 127.0.0.1:18082 and answers /hello)
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PORT = 18082


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def wait_port():
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def measure(name, cmd, pids_of):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port()
        time.sleep(0.5)
        pids = pids_of(proc.pid)
        idle = rss_kib(pids)
        conns = []
        for _ in range(1000):
            s = socket.create_connection(("127.0.0.1", PORT))
            s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            conns.append(s)
        for s in conns:
            data = b""
            while b"Hello, World!" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        time.sleep(0.3)
        loaded = rss_kib(pids)
        for s in conns:
            s.close()
        print(f"{name:8s} idle RSS {idle / 1024:6.1f} MiB   with 1,000 keep-alive connections {loaded / 1024:6.1f} MiB")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def main():
    binary, config = sys.argv[1], sys.argv[2]
    measure("quantum", [binary, "run", "--config", config], lambda pid: [pid])
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if os.path.exists(nginx):
        d = tempfile.mkdtemp()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 2; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{PORT}; location /hello {{ default_type text/plain; return 200 "Hello, World!"; }} }} }}
""")
        measure("nginx", [nginx, "-c", conf, "-p", d], lambda pid: [pid] + children(pid))


if __name__ == "__main__":
    main()
