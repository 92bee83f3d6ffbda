#!/usr/bin/env bash
# HTTP/2 rapid-reset flood across connections, Quantum beside nginx: each server is started fresh
# on free ports of 127.0.0.1, serving the same folder (100k.bin, a 100 KiB file) and /hello, over
# cleartext h2 (prior knowledge); scripts/h2_flood.py then floods it
# (CONNECTIONS attacker connections, each opened, sent PER_CONN x HEADERS GET /100k.bin +
# RST_STREAM CANCEL and closed, again and again for DURATION seconds) while a victim makes one GET /hello
# every 100 ms (2 s timeout) and the server's RSS and open fds are sampled every 250 ms.
#
#   Benchmarks/h2-flood.sh                                   # DURATION=10 CONNECTIONS=4 PER_CONN=900
#   QUANTUM=.build/debug/quantum DURATION=5 Benchmarks/h2-flood.sh
#   PEERS=quantum RSS_LIMIT_MB=2048 Benchmarks/h2-flood.sh
#
# Peers (same worker counts: CORES = nproc):
#   quantum  $QUANTUM run --config site.json: "protocols": ["h1", "h2", "h2c"], file_server + static_response
#            (default .build/release/quantum, else .build/debug/quantum; this script never builds)
#   nginx    worker_processes CORES, "listen ... http2" (h2c prior knowledge: nginx 1.22 has no h1 on
#            that port, hence the h2c victim), root = the same folder, location = /hello
# Reported per peer (h2_flood.py --json): peak RSS and peak fds of the server (nginx: master + workers,
# summed), its RSS 3 s after the attack and when it answers /hello again (retried for up to
# RECOVERY_WAIT more seconds), the victim's success ratio and p50/p99 latency (a failed
# request counts with the time it took, i.e. >= 2 s for a timeout), attack requests sent per second.
# The attack stops early when the server's RSS passes RSS_LIMIT_MB (this machine has no swap).
# Results: RESULTS_DIR/<peer>.json and the logs beside it, a table on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=one-server.sh
source "$ROOT/Benchmarks/one-server.sh"
PYTHON=${QUANTUM_H2_PYTHON:-/tmp/quantum-h2-venv/bin/python}   # needs the h2 package (scripts/deps.sh)
FLOOD=$ROOT/scripts/h2_flood.py
DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-4} PER_CONN=${PER_CONN:-900}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-4096} RECOVERY_WAIT=${RECOVERY_WAIT:-10}
DURATION=${DURATION%s}   # "10s" or "10"
PEERS=${PEERS:-"quantum nginx"}
CORES=$(nproc)
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-h2-flood.XXXXXX")}
mkdir -p "$RESULTS_DIR"
for tool in curl python3; do command -v $tool >/dev/null || die "$tool not found"; done
"$PYTHON" -c 'import h2' 2>/dev/null || die "$PYTHON has no h2 package (scripts/deps.sh makes /tmp/quantum-h2-venv)"
if [[ $PEERS == *nginx* ]]; then
  command -v nginx >/dev/null || die "nginx not found (apt-get install nginx-light)"
  nginx -V 2>&1 | grep -q -- --with-http_v2_module || die "this nginx has no http_v2 module (nginx -V)"
fi
[[ $PEERS != *quantum* || -x $QUANTUM ]] || die "no quantum binary at $QUANTUM (set QUANTUM=...)"
curl -V | grep -qw HTTP2 || die "curl has no HTTP/2 support"
PORT=$(free_port)

begin_run h2-flood

# ---------------------------------------------------------------- content and configs
mkdir -p "$RUN/www" "$RUN/nginx-tmp"
head -c 102400 /dev/urandom >"$RUN/www/100k.bin"
chmod 755 "$RUN/www"; chmod 644 "$RUN/www/100k.bin"
cat >"$RUN/site.json" <<JSON
{"admin": {"disabled": true},
 "apps": {"http": {"servers": {
   "clear": {"listen": ["127.0.0.1:$PORT"], "protocols": ["h1", "h2", "h2c"], "automatic_https": {"disable": true},
    "routes": [
     {"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "status_code": 200,
       "headers": {"Content-Type": ["text/plain; charset=utf-8"]}, "body": "Hello, World!"}], "terminal": true},
     {"handle": [{"handler": "file_server", "root": "$RUN/www"}]}]}}}}}
JSON
python3 -m json.tool "$RUN/site.json" >/dev/null || die "site.json is not valid JSON"
cat >"$RUN/nginx.conf" <<CONF
daemon off; master_process on; worker_processes $CORES; pid $RUN/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path $RUN/nginx-tmp/body; proxy_temp_path $RUN/nginx-tmp/proxy; fastcgi_temp_path $RUN/nginx-tmp/fcgi;
  uwsgi_temp_path $RUN/nginx-tmp/uwsgi; scgi_temp_path $RUN/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$PORT http2;
    root $RUN/www;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
  }
}
CONF

# ---------------------------------------------------------------- servers
# check PATH : answered 200 over h2c
check() { [[ $(curl -s --http2-prior-knowledge --max-time 2 -o /dev/null -w '%{http_version} %{http_code}' \
                 "http://127.0.0.1:$PORT$1" 2>/dev/null) == "2 200" ]]; }
start_server() {
  case $1 in
    quantum) setsid "$QUANTUM" run --config "$RUN/site.json" >>"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
    nginx) setsid nginx -p "$RUN/" -c "$RUN/nginx.conf" -e stderr >>"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    check /hello && check /100k.bin && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "$1 exited (see $RESULTS_DIR/$1.log)"
    sleep 0.1
  done
  die "$1 does not answer h2c on 127.0.0.1:$PORT (see $RESULTS_DIR/$1.log)"
}

{
  describe_run
  echo "flood: $CONNECTIONS connections x $PER_CONN HEADERS+RST_STREAM each, ${DURATION} s; victim GET /hello (h2c) every 100 ms, 2 s timeout"
} >"$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

for peer in $PEERS; do
  log "$peer: starting on 127.0.0.1:$PORT"
  start_server "$peer"
  sleep 0.5   # let it settle before the "before" RSS
  # In the background so INT/TERM reach the trap at once; the flood bounds its own run time.
  "$PYTHON" "$FLOOD" --port "$PORT" --pid "$SERVER_PID" --path /100k.bin --seconds "$DURATION" \
    --connections "$CONNECTIONS" --per-connection "$PER_CONN" --victim-path /hello \
    --rss-limit-mb "$RSS_LIMIT_MB" --recovery-wait "$RECOVERY_WAIT" --label "$peer" --json >"$RESULTS_DIR/$peer.json" 2> >(tee -a "$RESULTS_DIR/$peer.flood.log" >&2) &
  LOAD_PID=$!
  wait "$LOAD_PID" || log "$peer: h2_flood.py failed (see $RESULTS_DIR/$peer.flood.log)"
  LOAD_PID=""
  stop_server
done

python3 - "$RESULTS_DIR" "$RECOVERY_WAIT" $PEERS <<'PY'
import json, os, sys
d, RECOVERY_WAIT, peers = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
rows = {}
for p in peers:
    try:
        rows[p] = json.loads(open(os.path.join(d, p + ".json")).read().strip().splitlines()[-1])
    except (OSError, IndexError, ValueError):
        rows[p] = {}
def cell(r, key, fmt="{}"):
    v = r.get(key)
    return "–" if v is None else fmt.format(v)
lines = [
    ("peak RSS (MB)", lambda r: cell(r, "peak_rss_mb")),
    ("RSS before / 3 s after (MB)", lambda r: f"{cell(r, 'rss_before_mb')} / {cell(r, 'rss_after_mb')}"),
    ("peak fds", lambda r: cell(r, "peak_fds")),
    ("victim success", lambda r: f"{cell(r, 'victim_ok')}/{cell(r, 'victim_requests')} ({cell(r, 'victim_timeouts')} timeouts)"),
    ("victim p50 / p99 (ms)", lambda r: f"{cell(r, 'victim_p50_ms')} / {cell(r, 'victim_p99_ms')}"),
    ("attack requests/s", lambda r: cell(r, "attack_rate_per_s", "{:,}")),
    ("attack requests sent", lambda r: cell(r, "attack_requests", "{:,}")),
    ("attack conns (write errors)", lambda r: f"{cell(r, 'attack_connections', '{:,}')} ({cell(r, 'attack_write_errors')})"),
    ("first request after (3 s)", lambda r: cell(r, "post_attack_request")),
    ("answers again after (s)", lambda r: cell(r, "recovered_after_s") if r.get("recovered_after_s") is not None
        else (f"> {3 + RECOVERY_WAIT:g}" if r else "–")),
    ("stopped early", lambda r: r.get("stopped_early") or "no"),
]
print("| | " + " | ".join(peers) + " |")
print("|---|" + "---:|" * len(peers))
for name, f in lines:
    print(f"| {name} | " + " | ".join(f(rows[p]) for p in peers) + " |")
PY
log "results: $RESULTS_DIR (per peer: <peer>.json, <peer>.flood.log, <peer>.log)"
