#!/usr/bin/env python3
"""Accept under file-descriptor exhaustion (EMFILE): does a server spin while it cannot accept?

    fd_exhaust.py --port N --pid SERVER_PID [--connections 400] [--hold 5] [--recover-wait 5] [--json]

Start the server with a low descriptor limit first (e.g. `prlimit --nofile=256:256 -- server ...`
or `bash -c 'ulimit -n 256; exec server ...'`), so that --connections idle connections exceed it.
Then this script, all on 127.0.0.1 and bounded in time:
  1. measures the server's CPU time over --baseline s while idle (utime + stime from
     /proc/PID/stat, in clock ticks, summed over PID and its children: nginx master + workers);
  2. opens --connections TCP connections and sends nothing on them. The kernel completes the
     handshakes from the listen backlog whether or not the server accepts, so once the server's
     descriptors run out the rest wait in the accept queue and accept() fails with EMFILE. A
     server that keeps polling the listener level-triggered and retrying accept() then burns CPU;
  3. holds them for --hold s and measures the server's CPU time over exactly that span, sampling
     its open descriptors (/proc/PID/fd) every 250 ms;
  4. closes them all, then sends `GET --path` over HTTP/1.1 on a fresh connection every 0.25 s
     (1 s timeout each) for up to --recover-wait s: "recovered" when one is answered 200.
Prints a readable line on stderr, and with --json one JSON line on stdout
(cpu_seconds_during_hold, recovered, peak_fds, ...). Python stdlib only.
"""
import argparse
import json
import os
import resource
import socket
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def process_tree(pid):
    """pid and its direct children (enough for nginx: master + workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:  # ppid
                        pids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def cpu_ticks(pids):
    """utime + stime (fields 14 and 15 of /proc/PID/stat) summed over pids."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # fields[0] is field 3 (state)
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def fd_count(pids):
    n = 0
    for p in pids:
        try:
            n += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return n


def fd_limit(pid):
    """The soft 'Max open files' of pid, from /proc/PID/limits."""
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    return line.split()[3]
    except OSError:
        pass
    return None


def request_ok(port, path, timeout):
    """One HTTP/1.1 GET on a fresh connection: True when answered 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            data = s.recv(4096)
        return data.startswith(b"HTTP/1.1 200") or data.startswith(b"HTTP/1.0 200")
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="HTTP/1.1 port on 127.0.0.1")
    ap.add_argument("--pid", type=int, required=True, help="server process (nginx: the master)")
    ap.add_argument("--connections", type=int, default=400, help="idle connections to open (more than the server's fd limit)")
    ap.add_argument("--hold", type=float, default=5.0, help="seconds to hold them while measuring CPU")
    ap.add_argument("--baseline", type=float, default=1.0, help="seconds of idle CPU measured first")
    ap.add_argument("--recover-wait", type=float, default=5.0, help="seconds to retry a request after closing them")
    ap.add_argument("--path", default="/hello")
    ap.add_argument("--label", default="")
    ap.add_argument("--json", action="store_true", help="print one JSON summary line on stdout")
    args = ap.parse_args()
    if not os.path.exists(f"/proc/{args.pid}"):
        ap.error(f"no process {args.pid}")
    # Our own side needs --connections descriptors too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.connections + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 64), hard))

    pids = process_tree(args.pid)
    ok_before = request_ok(args.port, args.path, 1.0)

    # 1. idle baseline
    t0, c0 = time.monotonic(), cpu_ticks(pids)
    time.sleep(args.baseline)
    baseline_cpu = (cpu_ticks(pids) - c0) / HZ / (time.monotonic() - t0)

    # 2. idle connections (connect only; 2 s budget each, bounded by the count)
    conns, connect_failures = [], 0
    t_open = time.monotonic()
    for _ in range(args.connections):
        try:
            conns.append(socket.create_connection(("127.0.0.1", args.port), timeout=2.0))
        except OSError:
            connect_failures += 1
    open_seconds = time.monotonic() - t_open
    time.sleep(0.2)  # let the server get to the point where accept() fails

    # 3. hold: CPU over exactly this span, fds sampled meanwhile
    peak_fds = fd_count(pids)
    t_hold, c_hold = time.monotonic(), cpu_ticks(pids)
    while time.monotonic() - t_hold < args.hold:
        time.sleep(min(0.25, max(0.0, args.hold - (time.monotonic() - t_hold))))
        peak_fds = max(peak_fds, fd_count(pids))
    hold_seconds = time.monotonic() - t_hold
    cpu_seconds = (cpu_ticks(pids) - c_hold) / HZ
    alive = os.path.exists(f"/proc/{args.pid}")

    # 4. close them; a fresh request must be answered again
    for s in conns:
        s.close()
    t_close = time.monotonic()
    recovered_after = None
    while alive and time.monotonic() - t_close < args.recover_wait:
        if request_ok(args.port, args.path, 1.0):
            recovered_after = time.monotonic() - t_close
            break
        time.sleep(0.25)
    fds_after = fd_count(process_tree(args.pid))

    summary = {
        "label": args.label,
        "server_fd_limit": fd_limit(args.pid),
        "request_ok_before": ok_before,
        "connections_opened": len(conns),
        "connect_failures": connect_failures,
        "open_seconds": round(open_seconds, 2),
        "cpu_percent_idle": round(baseline_cpu * 100, 1),
        "hold_seconds": round(hold_seconds, 2),
        "cpu_seconds_during_hold": round(cpu_seconds, 2),
        "cpu_percent_during_hold": round(cpu_seconds / hold_seconds * 100, 1),
        "peak_fds": peak_fds,
        "recovered": recovered_after is not None,
        "recovered_after_s": round(recovered_after, 2) if recovered_after is not None else None,
        "fds_after": fds_after,
        "server_alive": alive,
    }
    s = summary
    print(f"[fd_exhaust {args.label or args.port}] fd limit {s['server_fd_limit']}; {s['connections_opened']} idle "
          f"connections ({connect_failures} failed) held {s['hold_seconds']} s: server CPU {s['cpu_seconds_during_hold']} s "
          f"({s['cpu_percent_during_hold']} %, idle {s['cpu_percent_idle']} %), peak fds {peak_fds}; after closing them: "
          + (f"answers again in {s['recovered_after_s']} s" if s["recovered"] else f"no answer within {args.recover_wait:g} s"),
          file=sys.stderr)
    if args.json:
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
