#!/usr/bin/env python3
"""What a file_sync root costs at start: a tree of N files is made, then Quantum starts on it
(a config with one file_sync handler) and the time until its port answers is taken, for
  1. the first start (no saved index: every file is hashed),
  2. a start with nothing changed (the saved index's stamps are compared, nothing is read),
  3. a start after editing --edits files while it was down (only those are hashed),
and the operations the third start logged are counted (they must equal --edits).

  Benchmarks/sync_startup.py [--quantum .build/release/quantum] [--files 100000] [--edits 100]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tree(root, files):
    per_dir = 100
    for i in range(files):
        d = os.path.join(root, f"d{i // per_dir:04d}")
        if i % per_dir == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i % per_dir:03d}.txt"), "w") as f:
            f.write(f"file {i} " + "x" * 100 + "\n")
    old = time.time() - 120  # older than the "recently modified, always hash" window
    for dirpath, _, names in os.walk(root):
        for n in names:
            os.utime(os.path.join(dirpath, n), (old, old))


def start(binary, config, port):
    began = time.monotonic()
    process = subprocess.Popen([binary, "run", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, time.monotonic() - began
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"quantum exited with {process.returncode}")
            time.sleep(0.01)


def operations_since(port, seq):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/api/list?since={seq}", timeout=60) as answer:
        return json.load(answer).get("operations", [])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quantum", default=".build/release/quantum")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=100)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="quantum-sync-startup-")
    try:
        root = os.path.join(work, "root")
        os.makedirs(root)
        t = time.monotonic()
        make_tree(root, args.files)
        print(f"tree: {args.files} files in {time.monotonic() - t:.1f} s")
        port = free_port()
        config = os.path.join(work, "config.json")
        with open(config, "w") as f:
            json.dump({"admin": {"disabled": True, "config": {"persist": False}},
                       "logging": {"logs": {"default": {"level": "ERROR"}}},
                       "apps": {"http": {"servers": {"sync": {"listen": [f"127.0.0.1:{port}"], "automatic_https": {"disable": True},
                                                              "routes": [{"handle": [{"handler": "file_sync", "root": root}]}]}}}}}, f)
        for label in ("first start (no saved index)", "nothing changed", f"{args.edits} files edited while down"):
            if label.endswith("while down"):
                for i in range(args.edits):
                    path = os.path.join(root, f"d{i:04d}", "f000.txt")
                    with open(path, "a") as f:
                        f.write("edited\n")
                    old = time.time() - 60
                    os.utime(path, (old, old))
            process, seconds = start(args.quantum, config, port)
            logged = len(operations_since(port, 0))
            print(f"{label}: ready in {seconds:.2f} s, {logged} operations in the log")
            process.terminate()
            process.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
