#!/usr/bin/env bash
# Reverse proxy side by side: nginx (proxy_pass), caddy 2 and Quantum (reverse_proxy) in front of
# one shared nginx upstream (1 worker, fixed 13-byte body), all on 127.0.0.1, interleaved in rounds.
#
#   Benchmarks/proxy.sh                                   # ROUNDS=3 DURATION=10s CONNECTIONS=64
#   ROUNDS=5 DURATION=8s CONNECTIONS=128 Benchmarks/proxy.sh
#   POOL=default Benchmarks/proxy.sh                      # caddy/Quantum with Caddy's default transport
#   QUANTUM=0 Benchmarks/proxy.sh                         # nginx and caddy only
#
# How: the measuring is ../shared/bench/compare.sh's `proxy` scenario (same process handling,
# CPU accounting, per-round ratios and report.py), run from a private copy of the bench directory
# whose peers/ holds this benchmark's configs:
#   upstream   peers/upstream-nginx.conf (shared, unchanged): 127.0.0.1:18999, worker_processes 1,
#              answers any path with "Hello, World!"
#   nginx      peers/nginx.conf (shared): 127.0.0.1:18081, worker_processes auto (= cores),
#              location /proxy/ -> upstream { keepalive POOL; keepalive_requests 1000000; },
#              proxy_http_version 1.1, proxy_set_header Connection "" (keepalive_requests is the
#              one line this script adds to the shared file)
#   caddy      Benchmarks/proxy.json on 127.0.0.1:18082: /proxy/* -> reverse_proxy, transport
#              keep_alive.max_idle_conns_per_host POOL (GOMAXPROCS = cores)
#   quantum    the very same Benchmarks/proxy.json, on the same port (run one at a time),
#              one event loop per core
# wrk -t1 -cCONNECTIONS GETs /proxy/bench/item; each server is started fresh for each measurement.
# POOL (default 64) is nginx's `keepalive` and caddy/Quantum's max_idle_conns_per_host, so all
# three may keep the same number of idle upstream connections; POOL=default drops the transport
# block (Caddy's default is 32 idle per host, fewer than 64 client connections: caddy then closes
# and reopens upstream connections all the time) and keeps nginx at 64.
#
# Alongside, a sampler runs `ss` every SAMPLE_INTERVAL (0.5 s) and attributes established sockets
# to 127.0.0.1:18999 to the proxy process owning them, to show that each proxy's upstream pool is
# bounded and reused: peak open, open at the end of the run, distinct connections seen, and
# connections the proxy closed during load (new TIME-WAIT sockets on its side; a lower bound).
#
# Ports 18081 18082 18181 18183 18083 18084 18999 must be free (compare.sh's fixed ports).
# Quantum: .build-release/release/quantum, built (under flock) only when missing; skipped with a
# message when it does not start with Benchmarks/proxy.json. Results stay in RESULTS_DIR
# (results.csv, summary.md, upstream-conns.jsonl, logs/); the temporary run directory is removed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
SCRATCH=${SCRATCH:-$ROOT/.build-release}
BIN=$SCRATCH/release/quantum
export ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s}
export CONNS=${CONNECTIONS:-${CONNS:-64}}
POOL=${POOL:-64}
QUANTUM=${QUANTUM:-1}
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.5}
export RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-proxy-bench.XXXXXX")}
PROXY_PORT=18082 UPSTREAM_PORT=18999

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nginx caddy wrk ss curl python3; do command -v $tool >/dev/null || die "$tool not found (apt-get install -y nginx-light caddy wrk)"; done
[[ -f $SHARED/bench/compare.sh ]] || die "no $SHARED/bench/compare.sh (set SHARED)"
[[ $POOL == default || $POOL =~ ^[1-9][0-9]*$ ]] || die "POOL must be a number or 'default'"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-proxy-run.XXXXXX")
SAMPLER_PID="" PREFLIGHT_PID="" COMPARE_PID=""
cleanup() {
  trap - EXIT INT TERM
  set +e
  # compare.sh stops its own servers on TERM (after the wrk run in progress, which is bounded)
  [[ -n $COMPARE_PID ]] && { kill -TERM "$COMPARE_PID" 2>/dev/null; wait "$COMPARE_PID" 2>/dev/null; }
  [[ -n $PREFLIGHT_PID ]] && { kill "$PREFLIGHT_PID" 2>/dev/null; wait "$PREFLIGHT_PID" 2>/dev/null; }
  [[ -n $SAMPLER_PID ]] && { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; }
  rm -rf "$RUN"
  return 0
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM
mkdir -p "$RESULTS_DIR" "$RUN/bench/peers"

# ------------------------------------------------------------ private bench dir with our configs
cp "$SHARED/bench/compare.sh" "$SHARED/bench/report.py" "$RUN/bench/"
cp "$SHARED/bench/peers/upstream-nginx.conf" "$SHARED/bench/peers/nginx.conf" "$RUN/bench/peers/"
grep -q 'keepalive 64;' "$RUN/bench/peers/nginx.conf" || die "shared peers/nginx.conf has no 'keepalive 64;' upstream pool"
# nginx's upstream keepalive_requests (default 1000) would close each upstream connection after
# 1000 requests (~50 reconnects/s here); caddy and Quantum have no such cap, so lift it, as
# nginx.conf already does for client connections
sed -i "s/keepalive 64;/keepalive ${POOL/default/64}; keepalive_requests 1000000;/" "$RUN/bench/peers/nginx.conf"
python3 - "$ROOT/Benchmarks/proxy.json" "$RUN/bench/peers/quantum.json" "$POOL" <<'PY'
import json, sys
conf = json.load(open(sys.argv[1]))
for route in conf["apps"]["http"]["servers"]["proxy"]["routes"]:
    for h in route["handle"]:
        if h["handler"] == "reverse_proxy":
            if sys.argv[3] == "default":
                h.pop("transport", None)
            else:
                h["transport"]["keep_alive"]["max_idle_conns_per_host"] = int(sys.argv[3])
json.dump(conf, open(sys.argv[2], "w"), indent=1)
PY
CONFIG=$RUN/bench/peers/quantum.json

# ------------------------------------------------------------ Quantum: build if missing, preflight
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_open $PROXY_PORT && die "127.0.0.1:$PROXY_PORT is already in use"
port_open $UPSTREAM_PORT && die "127.0.0.1:$UPSTREAM_PORT is already in use"
unset QUANTUM_CMD
if [[ $QUANTUM == 1 ]]; then
  if [[ ! -x $BIN ]]; then
    log "building quantum (release, waiting for /tmp/swift-build.lock)"
    (cd "$ROOT" && flock /tmp/swift-build.lock swift build -c release --product quantum --scratch-path "$SCRATCH") \
      >"$RESULTS_DIR/build.log" 2>&1 || log "quantum build failed: see $RESULTS_DIR/build.log"
  fi
  started=0
  if [[ -x $BIN ]]; then
    ( cd "$RUN" && exec "$BIN" run --config "$CONFIG" ) >"$RESULTS_DIR/quantum-preflight.log" 2>&1 </dev/null &
    PREFLIGHT_PID=$!
    for _ in $(seq 50); do
      kill -0 "$PREFLIGHT_PID" 2>/dev/null || break
      port_open $PROXY_PORT && { started=1; break; }
      sleep 0.1
    done
    kill "$PREFLIGHT_PID" 2>/dev/null || true
    wait "$PREFLIGHT_PID" 2>/dev/null || true
    PREFLIGHT_PID=""
    for _ in $(seq 50); do port_open $PROXY_PORT || break; sleep 0.1; done
  fi
  if ((started)); then
    export QUANTUM_CMD="$BIN run --config \$QUANTUM_CONFIG" QUANTUM_H2C_PORT=none
  else
    log "QUANTUM SKIPPED: $BIN did not start with Benchmarks/proxy.json (POOL=$POOL):"
    sed 's/^/    /' "$RESULTS_DIR/quantum-preflight.log" 2>/dev/null | tail -5 >&2 || true
  fi
fi

# ------------------------------------------------------------ upstream connection sampler
cat >"$RUN/sampler.py" <<'PY'
import json, re, subprocess, sys, time
out, interval, port = open(sys.argv[1], "w", buffering=1), float(sys.argv[2]), sys.argv[3]
owner = re.compile(r'users:\(\("([^"]+)",pid=(\d+)')
def ss(*args):
    return subprocess.run(["ss", "-tnH", *args, "dst", "127.0.0.1:" + port],
                          capture_output=True, text=True).stdout.splitlines()
prev_tw = None
while True:
    t = time.time()
    est = []
    for line in ss("-p", "state", "established"):   # Recv-Q Send-Q Local Peer Process
        m = owner.search(line)
        if m:
            est.append([m.group(1), int(m.group(2)), line.split()[2].rsplit(":", 1)[1]])
    tw = {line.split()[2] for line in ss("state", "time-wait")}
    out.write(json.dumps({"t": t, "est": est, "tw_new": len(tw - prev_tw) if prev_tw is not None else 0,
                          "tw": len(tw)}) + "\n")
    prev_tw = tw
    time.sleep(max(0.0, interval - (time.time() - t)))
PY
python3 "$RUN/sampler.py" "$RESULTS_DIR/upstream-conns.jsonl" "$SAMPLE_INTERVAL" $UPSTREAM_PORT &
SAMPLER_PID=$!

# ------------------------------------------------------------ measure (compare.sh, proxy scenario)
log "proxy benchmark: ROUNDS=$ROUNDS DURATION=$DURATION CONNECTIONS=$CONNS POOL=$POOL quantum=${QUANTUM_CMD:+yes}${QUANTUM_CMD:-no}"
rc=0
SCENARIOS=proxy PEERS="nginx caddy" bash "$RUN/bench/compare.sh" >/dev/null &
COMPARE_PID=$!
wait "$COMPARE_PID" || rc=$?
COMPARE_PID=""
kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
[[ -s $RESULTS_DIR/results.csv ]] || die "compare.sh produced no results (exit $rc): see $RESULTS_DIR/logs"
((rc == 0)) || log "compare.sh exited with $rc"

# ------------------------------------------------------------ report
python3 - "$RESULTS_DIR" "$POOL" "$CONNS" "$DURATION" <<'PY'
import csv, json, os, statistics, sys
from collections import Counter
res, pool, conns = sys.argv[1], sys.argv[2], sys.argv[3]
duration = float(sys.argv[4].rstrip("smh")) * {"s": 1, "m": 60, "h": 3600}.get(sys.argv[4][-1], 1)
rows = [r for r in csv.DictReader(open(f"{res}/results.csv")) if r["scenario"] == "proxy"]
peers = [p for p in ["quantum", "nginx", "caddy"] if any(r["peer"] == p for r in rows)]
ok = {(r["peer"], r["round"]): r for r in rows if r["status"] == "ok"}

# Upstream sockets per measured run. Samples whose owning PIDs overlap belong to one server run
# (a segment); a run's wrk output file is written when its timed load ends, so the samples of
# the segment within (mtime - DURATION + 0.6 s, mtime - 0.2 s] are that run's steady load.
samples, seg, prev = [], -1, set()
for line in open(f"{res}/upstream-conns.jsonl"):
    s = json.loads(line)
    pids = {e[1] for e in s["est"]}
    if pids and not (pids & prev):
        seg += 1
        s["first"] = True
    s["seg"] = seg if pids else None
    prev = pids
    samples.append(s)
upconn = {}                                   # (peer, round) -> (peak, at end, distinct, closed)
for r in rows:
    out = os.path.join(res, "logs", f"r{r['round']}-{r['peer']}-proxy.txt")
    if not os.path.exists(out):
        continue
    t1 = os.path.getmtime(out)
    # (the first 0.6 s and last 0.2 s are left out: when wrk closes its connections, at the end of
    # the warm-up and of the run, a proxy may drop the upstream connections of in-flight requests)
    win = [s for s in samples if t1 - duration + 0.6 < s["t"] <= t1 - 0.2 and s["seg"] is not None]
    if not win:
        continue
    main = Counter(s["seg"] for s in win).most_common(1)[0][0]
    win = [s for s in win if s["seg"] == main]
    upconn[(r["peer"], r["round"])] = (max(len(s["est"]) for s in win), len(win[-1]["est"]),
                                       len({(e[1], e[2]) for s in win for e in s["est"]}),
                                       sum(s["tw_new"] for s in win if not s.get("first")))

def med(xs):
    return statistics.median(xs) if xs else None
def f(x, d=0):
    return "-" if x is None else f"{x:,.{d}f}"
def ratio(peer, base):
    rs = [float(ok[(peer, rd)]["rps"]) / float(ok[(base, rd)]["rps"]) for (p, rd) in ok if p == peer and (base, rd) in ok]
    if not rs:
        return "-"
    return f"{med(rs):.2f}" if peer == base or len(rs) == 1 else f"{med(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})"

print(f"\n## reverse_proxy: wrk -c{conns} GET /proxy/bench/item -> nginx upstream 127.0.0.1:18999 (POOL={pool})\n")
print("| proxy | median req/s | vs nginx | vs caddy | p99 ms | CPU µs/req | peak RSS MiB | errors | upstream conns: peak / at end / distinct seen / closed during load | runs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
for p in peers:
    mine = [r for r in rows if r["peer"] == p]
    good = [r for r in mine if r["status"] == "ok"]
    g = [v for (q, _), v in upconn.items() if q == p]
    conn = " / ".join(f(med([v[k] for v in g])) for k in range(4)) if g else "-"
    status = Counter(r["status"] for r in mine)
    print(f"| {p} | {f(med([float(r['rps']) for r in good]))} | {ratio(p, 'nginx')} | {ratio(p, 'caddy')} | "
          f"{f(med([float(r['p99_ms']) for r in good if r['p99_ms']]), 2)} | "
          f"{f(med([float(r['cpu_us_per_req']) for r in good if r['cpu_us_per_req']]), 1)} | "
          f"{f(max((int(r['hwm_kb']) / 1024 for r in good if r['hwm_kb']), default=None), 1)} | "
          f"{sum(int(r['errors'] or 0) for r in mine)} | {conn} | {', '.join(f'{n} {s}' for s, n in status.items())} |")
print("""
ratios: median of per-round ratios (min–max); CPU: utime+stime of the proxy's process tree per request
(the upstream's CPU not included); upstream conns: medians over runs of the sockets the proxy held to
127.0.0.1:18999 during the timed wrk run (ss every SAMPLE_INTERVAL): peak, at the end of the run, distinct
ones seen, and ones the proxy closed (new TIME-WAIT sockets on its side; a lower bound, ports get reused).
A bounded, reused pool: peak <= min(POOL, connections), distinct ~ peak, ~0 closed.""")
PY
[[ $QUANTUM == 1 && -z ${QUANTUM_CMD:-} ]] &&
  echo "quantum: SKIPPED, it did not start with Benchmarks/proxy.json: $(tail -1 "$RESULTS_DIR/quantum-preflight.log" 2>/dev/null)"
log "upstream connection samples: $RESULTS_DIR/upstream-conns.jsonl"
