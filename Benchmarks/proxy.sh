#!/usr/bin/env bash
# Reverse proxy side by side: nginx (proxy_pass), caddy 2 and Quantum (reverse_proxy) in front of one
# shared nginx upstream (1 worker, 13-byte body), all on 127.0.0.1, interleaved in rounds. The measuring
# is Benchmarks/compare.py's proxy scenario (wrk -t1 GET /proxy/bench/item, each server started fresh for
# each measurement, free ports, per-round ratios, server CPU per request; see compare.py --help); beside
# it, this script samples each proxy's connections to the upstream, to show that its pool is bounded
# and reused.
#
#   Benchmarks/proxy.sh                                   # ROUNDS=3 DURATION=10s CONNECTIONS=64 POOL=64
#   ROUNDS=5 DURATION=8s CONNECTIONS=128 Benchmarks/proxy.sh
#   POOL=default Benchmarks/proxy.sh                      # caddy/Quantum with Caddy's default transport
#   QUANTUM=0 Benchmarks/proxy.sh                         # nginx and caddy only
#   Benchmarks/proxy.sh --quantum old=/tmp/q --quantum new=.build-release/release/quantum  # to compare.py
#
# POOL (compare.py --pool) is nginx's `keepalive` and caddy/Quantum's max_idle_conns_per_host, so all
# three may keep the same number of idle upstream connections; POOL=default drops the transport block
# (Caddy's default is 32 idle per host, fewer than 64 client connections: caddy then closes and reopens
# upstream connections all the time) and keeps nginx at 64.
# The sampler runs `ss` every SAMPLE_INTERVAL (0.5 s) on the upstream's port (compare.py writes it to
# RESULTS_DIR/upstream-port). One proxy runs at a time, so every socket to that port is the measured
# proxy's: within each timed run (results.csv's started/ended, less its first 0.6 s and last 0.2 s,
# when wrk's connections open and close) it counts the peak open, open at the end, distinct ones seen,
# and ones the proxy closed (new TIME-WAIT sockets on its side; a lower bound, ports get reused).
# Results stay in RESULTS_DIR: results.csv, summary.md (the pool table appended), upstream-conns.jsonl, logs/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
POOL=${POOL:-64} SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.5}
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-proxy-bench.XXXXXX")}
PEERS=nginx,caddy,quantum
[[ ${QUANTUM:-1} == 0 ]] && PEERS=nginx,caddy
command -v ss >/dev/null || { echo "ss not found (apt-get install iproute2)" >&2; exit 1; }
mkdir -p "$RESULTS_DIR"
rm -f "$RESULTS_DIR/upstream-port"

# ------------------------------------------------------------ upstream connection sampler (background)
python3 - "$RESULTS_DIR" "$SAMPLE_INTERVAL" <<'PY' &
import json, os, subprocess, sys, time
results, interval = sys.argv[1], float(sys.argv[2])
while not os.path.exists(f"{results}/upstream-port"):      # compare.py's setup writes it
    time.sleep(0.2)
time.sleep(0.1)
port = open(f"{results}/upstream-port").read().strip()
def local_ports(state):   # ss -H with a state filter prints: Recv-Q Send-Q Local:Port Peer:Port
    out = subprocess.run(["ss", "-tnH", "state", state, "dst", f"127.0.0.1:{port}"], capture_output=True, text=True)
    return [line.split()[2].rsplit(":", 1)[1] for line in out.stdout.splitlines()]
with open(f"{results}/upstream-conns.jsonl", "w", buffering=1) as out:
    while True:
        t = time.time()
        out.write(json.dumps({"t": t, "est": local_ports("established"), "tw": local_ports("time-wait")}) + "\n")
        time.sleep(max(0.0, interval - (time.time() - t)))
PY
SAMPLER_PID=$!
trap 'kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true' EXIT

# ------------------------------------------------------------ measure
rc=0
python3 "$ROOT/Benchmarks/compare.py" --scenarios proxy --peers "$PEERS" --pool "$POOL" --rounds "${ROUNDS:-3}" \
  --duration "${DURATION:-10s}" --conns "${CONNECTIONS:-${CONNS:-64}}" --results "$RESULTS_DIR" "$@" || rc=$?
((rc == 0)) || { echo "compare.py exited with $rc" >&2; exit "$rc"; }

# ------------------------------------------------------------ upstream connections per proxy
python3 - "$RESULTS_DIR" "$POOL" <<'PY' | tee -a "$RESULTS_DIR/summary.md"
import csv, json, statistics, sys
results, pool = sys.argv[1], sys.argv[2]
samples = [json.loads(line) for line in open(f"{results}/upstream-conns.jsonl")]
port = open(f"{results}/upstream-port").read().strip()
runs = {}                                    # peer -> [(peak, at end, distinct, closed)] over its runs
for r in csv.DictReader(open(f"{results}/results.csv")):
    win = [s for s in samples if r["status"] == "ok" and float(r["started"]) + 0.6 < s["t"] <= float(r["ended"]) - 0.2]
    if win:
        closed = sum(len(set(b["tw"]) - set(a["tw"])) for a, b in zip(win, win[1:]))
        runs.setdefault(r["peer"], []).append((max(len(s["est"]) for s in win), len(win[-1]["est"]),
                                               len({p for s in win for p in s["est"]}), closed))
print(f"\n### Upstream connections to 127.0.0.1:{port} during the timed runs (POOL={pool}; medians over runs)\n")
print("| proxy | peak open | open at the end | distinct seen | closed during load | runs |")
print("|---|---:|---:|---:|---:|---:|")
for peer, values in runs.items():
    print(f"| {peer} | " + " | ".join(f"{statistics.median(v[k] for v in values):g}" for k in range(4)) + f" | {len(values)} |")
print("\nA bounded, reused pool: peak <= POOL per event loop or worker, distinct ~ peak, ~0 closed.")
PY
