#!/usr/bin/env bash
# Accept under descriptor exhaustion (EMFILE), Quantum beside nginx: each server is started fresh
# with a low open-file limit (prlimit --nofile=FD_LIMIT, default 256) on a free port of 127.0.0.1,
# then scripts/fd_exhaust.py opens CONNECTIONS (400) idle connections to it,
# more than it can hold, keeps them HOLD (5) seconds while measuring the server's CPU time, closes
# them and checks that a fresh GET /hello is answered again within RECOVER_WAIT (5) seconds.
# A server that retries a failing accept() in a level-triggered loop spins at 100 % per event loop.
#
#   Benchmarks/emfile.sh
#   QUANTUM=.build/debug/quantum CONNECTIONS=600 HOLD=10 Benchmarks/emfile.sh
#
# Peers:
#   quantum  $QUANTUM run --config site.json (HTTP/1.1, /hello from static_response), one event loop
#            per core (default .build/release/quantum, else .build/debug/quantum; never builds)
#   nginx    worker_processes 1, so it has the same descriptor budget as the one Quantum process
#            (two workers would hold 2 x 256); worker_connections 1024, above the limit, so that
#            accept() itself fails with EMFILE (nginx then stops accepting for 500 ms) instead of
#            nginx's own "worker_connections are not enough"
# Reported per peer (fd_exhaust.py --json): CPU seconds during the hold (nginx: master + workers),
# peak open fds, whether and how fast it answers again. Results: RESULTS_DIR/<peer>.json, a table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=one-server.sh
source "$ROOT/Benchmarks/one-server.sh"
EXHAUST=$ROOT/scripts/fd_exhaust.py
FD_LIMIT=${FD_LIMIT:-256} CONNECTIONS=${CONNECTIONS:-400} HOLD=${HOLD:-5} RECOVER_WAIT=${RECOVER_WAIT:-5}
PEERS=${PEERS:-"quantum nginx"}
CORES=$(nproc)
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-emfile.XXXXXX")}
mkdir -p "$RESULTS_DIR"
for tool in curl python3 prlimit; do command -v $tool >/dev/null || die "$tool not found"; done
[[ $PEERS != *nginx* ]] || command -v nginx >/dev/null || die "nginx not found (apt-get install nginx-light)"
[[ $PEERS != *quantum* || -x $QUANTUM ]] || die "no quantum binary at $QUANTUM (set QUANTUM=...)"
((CONNECTIONS > FD_LIMIT)) || log "warning: CONNECTIONS=$CONNECTIONS does not exceed FD_LIMIT=$FD_LIMIT"
PORT=$(free_port)

begin_run emfile

# ---------------------------------------------------------------- configs
mkdir -p "$RUN/nginx-tmp"
cat >"$RUN/site.json" <<JSON
{"admin": {"disabled": true},
 "apps": {"http": {"servers": {
   "clear": {"listen": ["127.0.0.1:$PORT"], "automatic_https": {"disable": true},
    "routes": [{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "status_code": 200,
      "headers": {"Content-Type": ["text/plain; charset=utf-8"]}, "body": "Hello, World!"}]}]}}}}}
JSON
python3 -m json.tool "$RUN/site.json" >/dev/null || die "site.json is not valid JSON"
cat >"$RUN/nginx.conf" <<CONF
daemon off; master_process on; worker_processes 1; pid $RUN/nginx.pid; error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $RUN/nginx-tmp/body; proxy_temp_path $RUN/nginx-tmp/proxy; fastcgi_temp_path $RUN/nginx-tmp/fcgi;
  uwsgi_temp_path $RUN/nginx-tmp/uwsgi; scgi_temp_path $RUN/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$PORT;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
  }
}
CONF

# ---------------------------------------------------------------- servers
check() { [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/hello" 2>/dev/null) == 200 ]]; }
# prlimit sets the limit and execs the server, so $! is the server's own pid (as with setsid).
start_server() {
  case $1 in
    quantum) setsid prlimit --nofile="$FD_LIMIT:$FD_LIMIT" -- "$QUANTUM" run --config "$RUN/site.json" \
               >>"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
    nginx) setsid prlimit --nofile="$FD_LIMIT:$FD_LIMIT" -- nginx -p "$RUN/" -c "$RUN/nginx.conf" -e stderr \
             >>"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    check && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "$1 exited (see $RESULTS_DIR/$1.log)"
    sleep 0.1
  done
  die "$1 does not answer on 127.0.0.1:$PORT (see $RESULTS_DIR/$1.log)"
}

{
  describe_run
  echo "fd limit $FD_LIMIT; $CONNECTIONS idle connections held ${HOLD} s; recovery checked for ${RECOVER_WAIT} s"
} >"$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

for peer in $PEERS; do
  log "$peer: starting on 127.0.0.1:$PORT with nofile $FD_LIMIT"
  start_server "$peer"
  sleep 0.5
  python3 "$EXHAUST" --port "$PORT" --pid "$SERVER_PID" --connections "$CONNECTIONS" --hold "$HOLD" \
    --recover-wait "$RECOVER_WAIT" --label "$peer" --json >"$RESULTS_DIR/$peer.json" 2> >(tee -a "$RESULTS_DIR/$peer.exhaust.log" >&2) &
  LOAD_PID=$!
  wait "$LOAD_PID" || log "$peer: fd_exhaust.py failed (see $RESULTS_DIR/$peer.exhaust.log)"
  LOAD_PID=""
  stop_server
done

python3 - "$RESULTS_DIR" $PEERS <<'PY'
import json, os, sys
d, peers = sys.argv[1], sys.argv[2:]
rows = {}
for p in peers:
    try:
        rows[p] = json.loads(open(os.path.join(d, p + ".json")).read().strip().splitlines()[-1])
    except (OSError, IndexError, ValueError):
        rows[p] = {}
def cell(r, key):
    v = r.get(key)
    return "–" if v is None else str(v)
lines = [
    ("fd limit (soft)", lambda r: cell(r, "server_fd_limit")),
    ("idle connections opened", lambda r: cell(r, "connections_opened")),
    ("CPU s during hold", lambda r: cell(r, "cpu_seconds_during_hold")),
    ("CPU % during hold (idle %)", lambda r: f"{cell(r, 'cpu_percent_during_hold')} ({cell(r, 'cpu_percent_idle')})"),
    ("peak fds", lambda r: cell(r, "peak_fds")),
    ("recovered", lambda r: cell(r, "recovered")),
    ("answers again after (s)", lambda r: cell(r, "recovered_after_s")),
]
print("| | " + " | ".join(peers) + " |")
print("|---|" + "---:|" * len(peers))
for name, f in lines:
    print(f"| {name} | " + " | ".join(f(rows[p]) for p in peers) + " |")
PY
log "results: $RESULTS_DIR (per peer: <peer>.json, <peer>.exhaust.log, <peer>.log)"
