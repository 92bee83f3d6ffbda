#!/usr/bin/env bash
# HTTPS/1.1 side by side: Quantum, nginx and caddy serving the same 13-byte "Hello, World!" over
# TLS (one ECDSA P-256 certificate made here with openssl), all on 127.0.0.1:18443, interleaved in
# rounds; every server is started fresh for every measurement.
#
#   Benchmarks/tls.sh                                   # ROUNDS=3 DURATION=10s CONNS=64 HS_CONNS=16
#   SCENARIOS=handshake ROUNDS=5 Benchmarks/tls.sh
#
# Scenarios (wrk -t1, GET /hello):
#   keepalive   CONNS keep-alive connections: the per-request cost of TLS records
#   handshake   HS_CONNS connections sending "Connection: close": one full TLS 1.3 handshake
#               (X25519 + ECDSA P-256) per request, so req/s is new TLS connections per second.
#               wrk would resume sessions where the server allows it, so resumption is off
#               everywhere: apps.tls.session_tickets.disabled for caddy and Quantum, tickets and
#               session cache off for nginx
# Peers:
#   quantum  .build-release/release/quantum run --config (Caddy JSON: apps.tls.certificates.load_files,
#            tls_connection_policies [{}]); one event loop per core
#   caddy    the very same JSON (admin off), GOMAXPROCS = cores
#   nginx    worker_processes auto, ssl_protocols TLSv1.2 TLSv1.3, ssl_session_cache off,
#            keepalive_requests 1000000
# Reported per run: requests/s and the server's CPU time per request (user+system, all its
# processes, from /proc), which matters on a 2-core machine where wrk competes for the CPU.
# Results: RESULTS_DIR/results.csv and a summary table on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=${SCRATCH:-$ROOT/.build-release}
BIN=$SCRATCH/release/quantum
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-64} HS_CONNS=${HS_CONNS:-16}
SCENARIOS=${SCENARIOS:-"keepalive handshake"}
PEERS=${PEERS:-"quantum nginx caddy"}
PORT=18443
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-tls-bench.XXXXXX")}
mkdir -p "$RESULTS_DIR"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nginx caddy wrk openssl curl; do command -v $tool >/dev/null || die "$tool not found"; done
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_open $PORT && die "127.0.0.1:$PORT is already in use"
if [[ $PEERS == *quantum* && ! -x $BIN ]]; then
  log "building quantum (release, waiting for /tmp/swift-build.lock)"
  (cd "$ROOT" && flock /tmp/swift-build.lock swift build -c release --product quantum --scratch-path "$SCRATCH") >"$RESULTS_DIR/build.log" 2>&1 \
    || die "quantum build failed: see $RESULTS_DIR/build.log"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-tls-run.XXXXXX")
SERVER_PID=""
stop_server() {
  [[ -z $SERVER_PID ]] && return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  for _ in $(seq 50); do port_open $PORT || break; sleep 0.1; done
}
cleanup() { trap - EXIT; stop_server; rm -rf "$RUN"; }
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RUN/key.pem" -out "$RUN/cert.pem" \
  -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
cat >"$RUN/site.json" <<JSON
{"admin": {"disabled": true},
 "apps": {"tls": {"session_tickets": {"disabled": true}, "certificates": {"load_files": [{"certificate": "$RUN/cert.pem", "key": "$RUN/key.pem"}]}},
  "http": {"servers": {"tls": {"listen": ["127.0.0.1:$PORT"], "tls_connection_policies": [{}],
    "automatic_https": {"disable": true},
    "routes": [{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "status_code": 200,
      "headers": {"Content-Type": ["text/plain; charset=utf-8"]}, "body": "Hello, World!"}]}]}}}}}
JSON
mkdir -p "$RUN/nginx-tmp"
cat >"$RUN/nginx.conf" <<CONF
daemon off; master_process on; worker_processes auto; pid $RUN/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000;
  client_body_temp_path $RUN/nginx-tmp/body; proxy_temp_path $RUN/nginx-tmp/proxy; fastcgi_temp_path $RUN/nginx-tmp/fcgi;
  uwsgi_temp_path $RUN/nginx-tmp/uwsgi; scgi_temp_path $RUN/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$PORT ssl;
    ssl_certificate $RUN/cert.pem; ssl_certificate_key $RUN/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
  }
}
CONF

start_server() {
  case $1 in
    quantum) setsid "$BIN" run --config "$RUN/site.json" >"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
    caddy) HOME=$RUN XDG_DATA_HOME=$RUN/data XDG_CONFIG_HOME=$RUN/config setsid caddy run --config "$RUN/site.json" >"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
    nginx) setsid nginx -p "$RUN/" -c "$RUN/nginx.conf" -e stderr >"$RESULTS_DIR/$1.log" 2>&1 </dev/null & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    curl -sk --max-time 1 "https://127.0.0.1:$PORT/hello" 2>/dev/null | grep -q 'Hello, World!' && return 0
    sleep 0.1
  done
  die "$1 did not answer on https://127.0.0.1:$PORT/hello (see $RESULTS_DIR/$1.log)"
}

# CPU ticks (user + system) of the server's whole process group.
cpu_ticks() {
  local total=0 pid
  for pid in $(pgrep -g "$SERVER_PID" 2>/dev/null); do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo $total
}

echo "round,scenario,peer,requests_per_s,errors,cpu_us_per_request" >"$RESULTS_DIR/results.csv"
HZ=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  for scenario in $SCENARIOS; do
    for peer in $PEERS; do
      start_server "$peer"
      args=(-t1 -c"$CONNS")
      [[ $scenario == handshake ]] && args=(-t1 -c"$HS_CONNS" -H "Connection: close")
      timeout 30 wrk "${args[@]}" -d1s "https://127.0.0.1:$PORT/hello" >/dev/null 2>&1 || true
      before=$(cpu_ticks)
      out=$(timeout 120 wrk "${args[@]}" -d"$DURATION" "https://127.0.0.1:$PORT/hello" 2>&1)
      after=$(cpu_ticks)
      stop_server
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      total=$(awk '/requests in/ {print $1}' <<<"$out")
      errors=$(awk '/Socket errors|Non-2xx/ {s = s $0 "; "} END {print s}' <<<"$out" | tr ',' ' ')
      cpu=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$total" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "" }')
      echo "$round,$scenario,$peer,$rps,${errors:-0},$cpu" >>"$RESULTS_DIR/results.csv"
      log "round $round $scenario $peer: $rps req/s, ${cpu} us CPU/request ${errors}"
    done
  done
done

python3 - "$RESULTS_DIR/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| scenario | peer | req/s (median) | vs nginx | CPU µs/request (median) |")
print("|---|---|---|---|---|")
for scenario in dict.fromkeys(r["scenario"] for r in rows):
    med = {}
    for peer in dict.fromkeys(r["peer"] for r in rows):
        rs = [float(r["requests_per_s"]) for r in rows if r["scenario"] == scenario and r["peer"] == peer and r["requests_per_s"]]
        cpu = [float(r["cpu_us_per_request"]) for r in rows if r["scenario"] == scenario and r["peer"] == peer and r["cpu_us_per_request"]]
        if rs: med[peer] = (statistics.median(rs), statistics.median(cpu) if cpu else float("nan"))
    for peer, (rps, cpu) in med.items():
        ratio = rps / med["nginx"][0] if "nginx" in med else float("nan")
        print(f"| {scenario} | {peer} | {rps:,.0f} | {ratio:.2f}× | {cpu:.1f} |")
PY
log "results: $RESULTS_DIR/results.csv"
