#!/usr/bin/env python3
"""WebSocket measurements of a Quantum binary (issue 4): server RSS per idle connection, echo
round trips with many clients, and the time for one broadcast to reach every client.

Usage: websocket.py QUANTUM_BINARY [--idle 10000] [--echo-clients 100] [--echo-messages 200]
                    [--broadcast-clients 1000] [--rounds 50] [--floor-runs 3] [--port 18090]

The broadcast is also measured against ws_broadcast_floor.c (a C server that only does one
write() per member, on as many epoll loops as cores), in alternating runs with the same client:
the floor is what loopback TCP allows on this machine.

The clients are raw sockets on one epoll loop in this process (no WebSocket library: parsing
a 2-byte header costs less than a library's per-message overhead), so the figures include some
client time: the broadcast figure counts this process reading 1,000 sockets one after another.
Needs python3 (and swiftc for the native broadcast client). `ulimit -n` must exceed the idle
count plus a few (20,000 here). Run it on a quiet machine: the figures are for comparison, not
assertions.
"""
import argparse, base64, json, os, select, socket, subprocess, sys, tempfile, time

KEY = base64.b64encode(b"0123456789abcdef").decode()
MASK = b"\x11\x22\x33\x44"


def frame(payload: bytes, opcode=0x1) -> bytes:
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return head + MASK + masked


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def connect(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    s.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed during handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head[:80])
    s.setblocking(False)
    return s


def pct(values, q):
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))] * 1000, 3) if v else None


def read_exact_all(socks, need, ep, deadline):
    """Reads `need` bytes from every socket; returns {fd: time the last byte arrived}."""
    got = {s.fileno(): 0 for s in socks}
    done = {}
    by_fd = {s.fileno(): s for s in socks}
    while len(done) < len(socks):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timeout: {len(done)}/{len(socks)} received")
        for fd, _ in ep.poll(1.0):
            if fd in done or fd not in by_fd:
                continue
            try:
                data = by_fd[fd].recv(65536)
            except BlockingIOError:
                continue
            if not data:
                raise RuntimeError("server closed a connection")
            got[fd] += len(data)
            if got[fd] >= need:
                done[fd] = time.perf_counter()
    return done


def build_native_client():
    import shutil
    if not shutil.which("swiftc"):
        return None
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_broadcast_client.swift")
    out = os.path.join(tempfile.gettempdir(), "quantum_ws_broadcast_client")
    r = subprocess.run(["swiftc", "-O", source, "-o", out], capture_output=True, text=True)
    return out if r.returncode == 0 else None


def native_broadcast(native, port, a):
    out = subprocess.run([native, str(port), str(a.broadcast_clients), str(a.rounds)],
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr.strip()}


def build_floor_server():
    """Benchmarks/ws_broadcast_floor.c: one write() per member and nothing else, in C."""
    import shutil
    if not shutil.which("cc"):
        return None
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_broadcast_floor.c")
    out = os.path.join(tempfile.gettempdir(), "quantum_ws_broadcast_floor")
    r = subprocess.run(["cc", "-O2", "-pthread", source, "-o", out], capture_output=True, text=True)
    return out if r.returncode == 0 else None


def compare_with_floor(native, floor, a):
    """Alternates runs against Quantum and the C floor server (as many loops as cores), so
    both see the same machine: the ratio says how close Quantum is to what the kernel allows."""
    port = a.port + 1
    server = subprocess.Popen([floor, str(port), str(os.cpu_count() or 1)])
    try:
        time.sleep(0.3)
        runs = {"quantum": [], "floor": []}
        for _ in range(a.floor_runs):
            runs["quantum"].append(native_broadcast(native, a.port, a)["last_receiver_ms"])
            runs["floor"].append(native_broadcast(native, port, a)["last_receiver_ms"])
        med = lambda xs: sorted(xs)[len(xs) // 2]
        summary = {name: {"p50_median": med([r["p50"] for r in rs]), "p99_median": med([r["p99"] for r in rs]), "runs": rs}
                   for name, rs in runs.items()}
        summary["p99_ratio_quantum_to_floor"] = round(summary["quantum"]["p99_median"] / summary["floor"]["p99_median"], 2)
        return summary
    finally:
        server.terminate()
        server.wait(10)


def python_broadcast(a, ep):
    members = [connect(a.port, "/room") for _ in range(a.broadcast_clients)]
    for s in members:
        ep.register(s.fileno(), select.EPOLLIN)
    sender = connect(a.port, "/room")
    payload = b"b" * 32
    need = 2 + len(payload)
    # Membership starts when the server's task runs: warm-up rounds until everyone gets one.
    for _ in range(3):
        sender.send(frame(payload))
        read_exact_all(members, need, ep, time.perf_counter() + 30)
    sender.setblocking(True)
    lasts, all_lat = [], []
    for _ in range(a.rounds):
        time.sleep(0.02)
        if select.select([sender], [], [], 0)[0]:
            sender.recv(65536)
        t = time.perf_counter()
        sender.send(frame(payload))
        arrivals = read_exact_all(members, need, ep, t + 30)
        lasts.append(max(arrivals.values()) - t)
        all_lat.extend(v - t for v in arrivals.values())
    for s in members:
        s.close()
    sender.close()
    return {"clients": a.broadcast_clients, "rounds": a.rounds,
            "last_receiver_ms": {"p50": pct(lasts, .5), "p99": pct(lasts, .99), "max": pct(lasts, 1.0)},
            "per_receiver_ms": {"p50": pct(all_lat, .5), "p99": pct(all_lat, .99)}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--echo-clients", type=int, default=100)
    ap.add_argument("--echo-messages", type=int, default=200)
    ap.add_argument("--broadcast-clients", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--floor-runs", type=int, default=3,
                    help="alternating broadcast runs against Quantum and ws_broadcast_floor.c (0: none)")
    a = ap.parse_args()

    cfg = {"apps": {"http": {"servers": {"ws": {"listen": [f"127.0.0.1:{a.port}"], "routes": [
        {"match": [{"path": ["/echo"]}], "handle": [{"handler": "websocket_echo"}]},
        {"match": [{"path": ["/room"]}], "handle": [{"handler": "websocket_echo", "broadcast": True}]}]}}}}}
    tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(cfg, tmp)
    tmp.close()
    server = subprocess.Popen([a.binary, "run", "--config", tmp.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", a.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

        # Warm up (allocator arenas, loop buffers), then idle connections.
        warm = [connect(a.port, "/echo") for _ in range(200)]
        for s in warm:
            s.close()
        time.sleep(0.5)
        before = rss_kib(server.pid)
        idle = [connect(a.port, "/echo") for _ in range(a.idle)]
        time.sleep(1.0)
        after = rss_kib(server.pid)
        results["idle"] = {"connections": a.idle, "rss_before_kib": before, "rss_after_kib": after,
                           "per_connection_bytes": round((after - before) * 1024 / a.idle)}
        for s in idle:
            s.close()
        time.sleep(1.0)

        # Echo round trips: every client keeps one 64-byte text message in flight.
        ep = select.epoll()
        clients = [connect(a.port, "/echo") for _ in range(a.echo_clients)]
        msg = frame(b"x" * 64)
        need = 2 + 64
        by_fd = {s.fileno(): s for s in clients}
        pending, sent_at, count, rtts = {}, {}, {}, []
        for s in clients:
            ep.register(s.fileno(), select.EPOLLIN)
            pending[s.fileno()] = 0
            count[s.fileno()] = 0
            sent_at[s.fileno()] = time.perf_counter()
            s.send(msg)
        t0 = time.perf_counter()
        active = len(clients)
        while active:
            for fd, _ in ep.poll(5.0):
                data = by_fd[fd].recv(65536)
                if not data:
                    raise RuntimeError("echo connection closed")
                pending[fd] += len(data)
                while pending[fd] >= need:
                    pending[fd] -= need
                    now = time.perf_counter()
                    rtts.append(now - sent_at[fd])
                    count[fd] += 1
                    if count[fd] < a.echo_messages:
                        sent_at[fd] = now
                        by_fd[fd].send(msg)
                    else:
                        active -= 1
        elapsed = time.perf_counter() - t0
        results["echo"] = {"clients": a.echo_clients, "messages": len(rtts), "msgs_per_s": round(len(rtts) / elapsed),
                           "rtt_ms": {"p50": pct(rtts, .5), "p99": pct(rtts, .99), "max": pct(rtts, 1.0)}}
        for s in clients:
            ep.unregister(s.fileno())
            s.close()

        # Broadcast: one message from a sender reaches every room member. A native client
        # (Benchmarks/ws_broadcast_client.swift) measures it when swiftc is here: Python reading
        # 1,000 sockets would add ~10 ms of its own.
        native = build_native_client()
        if native:
            results["broadcast"] = native_broadcast(native, a.port, a)
            results["broadcast"]["client"] = "native (swiftc -O)"
            floor = build_floor_server()
            if floor and a.floor_runs > 0:
                results["broadcast_vs_floor"] = compare_with_floor(native, floor, a)
        else:
            results["broadcast"] = python_broadcast(a, ep)
            results["broadcast"]["client"] = "python"
        print(json.dumps(results, indent=2))
    finally:
        server.terminate()
        server.wait(10)
        os.unlink(tmp.name)


if __name__ == "__main__":
    main()
