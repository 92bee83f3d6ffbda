#!/usr/bin/env bash
# HTTP/2 side by side (issue 8): Quantum, nginx and caddy serving the same two things over h2
# (TLS, ALPN "h2", one ECDSA P-256 certificate made here with openssl) and over h2c (cleartext,
# prior knowledge), all on 127.0.0.1, interleaved in rounds; every server is started fresh for
# every measurement. Same structure as Benchmarks/tls.sh.
#
#   Benchmarks/h2.sh                                    # ROUNDS=3 DURATION=10s CONNS=64 STREAMS=10
#   ROUNDS=3 DURATION=8s Benchmarks/h2.sh
#   H2_N=200000 SCENARIOS="h2c-hello h2c-100k" Benchmarks/h2.sh    # fixed request count instead
#
# Scenarios (h2load -t$H2_THREADS -c$CONNS -m$STREAMS, so CONNS x STREAMS requests in flight):
#   h2-hello    GET /hello over TLS + h2: static_response "Hello, World!" (13 bytes)
#   h2-100k     GET /100k.bin over TLS + h2: a 100 KiB file (file_server / nginx root)
#   h2c-hello   the same /hello over cleartext h2 (prior knowledge)
#   h2c-100k    the same /100k.bin over cleartext h2
# Peers (equal worker counts: CORES = nproc):
#   quantum  .build-release/release/quantum run --config site.json: two servers, "tls" on
#            127.0.0.1:$TLS_PORT (tls_connection_policies [{}], apps.tls.certificates.load_files) and
#            "clear" on 127.0.0.1:$H2C_PORT, both "protocols": ["h1", "h2", "h2c"]; one event loop
#            per core (Quantum's default)
#   caddy    the very same JSON (admin off), GOMAXPROCS = CORES
#   nginx    worker_processes CORES, "listen ... ssl http2" and "listen ... http2" (h2c, prior
#            knowledge only: nginx 1.22 cannot mix h1 and h2c on one port), keepalive_requests
#            1000000 (nginx >= 1.19.7 applies it to h2 connections too), ssl_protocols TLSv1.2 TLSv1.3
# Each measurement: start the server, check both URLs answer correctly over the scenario's protocol
# (curl --http2 / --http2-prior-knowledge, body compared), warm up (h2load -D $WARMUP, or
# -n $H2_WARM_N), then the measured h2load run (-D $DURATION, or -n $H2_N when H2_N is set).
# Reported per run: requests/s (h2load "finished in"), failed/errored/timed-out requests and non-2xx
# statuses, the negotiated protocol (must be h2 / h2c) and the server's CPU time per request
# (user+system of its whole process group, from /proc), which matters on a 2-core machine where
# h2load competes for the CPU. Ratios vs nginx and vs caddy are medians of per-round ratios (each
# taken from the same round), so slow drift of the machine cancels out.
# Before each measurement the script waits (WAIT_QUIET=1, up to QUIET_TIMEOUT s) while swift-build,
# swift-test, xctest or wstest processes run, and marks a run "busy" if one showed up during it.
# Results: RESULTS_DIR/results.csv, the h2load outputs in RESULTS_DIR/logs, a table on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=${SCRATCH:-$ROOT/.build-release}
BIN=$SCRATCH/release/quantum
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} WARMUP=${WARMUP:-1s}
CONNS=${CONNS:-64} STREAMS=${STREAMS:-10} H2_THREADS=${H2_THREADS:-1}
H2_N=${H2_N:-} H2_WARM_N=${H2_WARM_N:-10000}
SCENARIOS=${SCENARIOS:-"h2-hello h2-100k h2c-hello h2c-100k"}
PEERS=${PEERS:-"quantum nginx caddy"}
WAIT_QUIET=${WAIT_QUIET:-1} QUIET_TIMEOUT=${QUIET_TIMEOUT:-3600}
TLS_PORT=${TLS_PORT:-18443} H2C_PORT=${H2C_PORT:-18444}
CORES=$(nproc)
RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-h2-bench.XXXXXX")}
mkdir -p "$RESULTS_DIR/logs"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nginx caddy h2load openssl curl python3; do command -v $tool >/dev/null || die "$tool not found"; done
nginx -V 2>&1 | grep -q -- --with-http_v2_module || die "this nginx has no http_v2 module (nginx -V)"
curl -V | grep -qw HTTP2 || die "curl has no HTTP/2 support"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $TLS_PORT $H2C_PORT; do port_open $port && die "127.0.0.1:$port is already in use"; done
if [[ $PEERS == *quantum* && ! -x $BIN ]]; then
  log "building quantum (release, waiting for /tmp/swift-build.lock)"
  (cd "$ROOT" && flock /tmp/swift-build.lock swift build -c release --product quantum --scratch-path "$SCRATCH") >"$RESULTS_DIR/build.log" 2>&1 \
    || die "quantum build failed: see $RESULTS_DIR/build.log"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-h2-run.XXXXXX")
chmod 755 "$RUN"   # nginx workers run as an unprivileged user when started as root
SERVER_PID="" LOAD_PID=""
stop_server() {
  [[ -z $SERVER_PID ]] && return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  for _ in $(seq 50); do port_open $TLS_PORT || port_open $H2C_PORT || break; sleep 0.1; done
}
cleanup() {
  trap - EXIT
  [[ -n $LOAD_PID ]] && { kill -TERM "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; }
  stop_server
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# ---------------------------------------------------------------- content and configs
mkdir -p "$RUN/www" "$RUN/nginx-tmp"
head -c 102400 /dev/urandom >"$RUN/www/100k.bin"
chmod 755 "$RUN/www"; chmod 644 "$RUN/www/100k.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$RUN/key.pem" -out "$RUN/cert.pem" \
  -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
ROUTES='[{"match": [{"path": ["/hello"]}], "handle": [{"handler": "static_response", "status_code": 200,
      "headers": {"Content-Type": ["text/plain; charset=utf-8"]}, "body": "Hello, World!"}], "terminal": true},
    {"match": [{"path": ["/100k.bin"]}], "handle": [{"handler": "file_server", "root": "'"$RUN/www"'"}], "terminal": true}]'
cat >"$RUN/site.json" <<JSON
{"admin": {"disabled": true},
 "apps": {"tls": {"certificates": {"load_files": [{"certificate": "$RUN/cert.pem", "key": "$RUN/key.pem"}]}},
  "http": {"servers": {
   "tls": {"listen": ["127.0.0.1:$TLS_PORT"], "protocols": ["h1", "h2", "h2c"], "tls_connection_policies": [{}],
    "automatic_https": {"disable": true}, "routes": $ROUTES},
   "clear": {"listen": ["127.0.0.1:$H2C_PORT"], "protocols": ["h1", "h2", "h2c"],
    "automatic_https": {"disable": true}, "routes": $ROUTES}}}}}
JSON
python3 -m json.tool "$RUN/site.json" >/dev/null || die "site.json is not valid JSON"
cat >"$RUN/nginx.conf" <<CONF
daemon off; master_process on; worker_processes $CORES; pid $RUN/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; sendfile on; tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path $RUN/nginx-tmp/body; proxy_temp_path $RUN/nginx-tmp/proxy; fastcgi_temp_path $RUN/nginx-tmp/fcgi;
  uwsgi_temp_path $RUN/nginx-tmp/uwsgi; scgi_temp_path $RUN/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$TLS_PORT ssl http2;
    listen 127.0.0.1:$H2C_PORT http2;
    ssl_certificate $RUN/cert.pem; ssl_certificate_key $RUN/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $RUN/www;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
    location = /100k.bin { }
  }
}
CONF

# ---------------------------------------------------------------- servers
scenario_url() {   # h2-* over TLS, h2c-* cleartext
  local path=/hello
  [[ $1 == *-100k ]] && path=/100k.bin
  if [[ $1 == h2c-* ]]; then echo "http://127.0.0.1:$H2C_PORT$path"; else echo "https://127.0.0.1:$TLS_PORT$path"; fi
}
# check URL : the body is right and the response came over HTTP/2
check() {
  local url=$1 flag=--http2 v
  [[ $url == http:* ]] && flag=--http2-prior-knowledge
  v=$(curl -sk $flag --max-time 2 -o "$RUN/check.out" -w '%{http_version} %{http_code}' "$url" 2>/dev/null) || return 1
  [[ $v == "2 200" ]] || return 1
  if [[ $url == */hello ]]; then [[ $(<"$RUN/check.out") == "Hello, World!" ]]; else cmp -s "$RUN/check.out" "$RUN/www/100k.bin"; fi
}
start_server() {
  case $1 in
    quantum) setsid "$BIN" run --config "$RUN/site.json" >>"$RESULTS_DIR/logs/$1.log" 2>&1 </dev/null & ;;
    caddy) GOMAXPROCS=$CORES HOME=$RUN XDG_DATA_HOME=$RUN/data XDG_CONFIG_HOME=$RUN/config \
             setsid caddy run --config "$RUN/site.json" >>"$RESULTS_DIR/logs/$1.log" 2>&1 </dev/null & ;;
    nginx) setsid nginx -p "$RUN/" -c "$RUN/nginx.conf" -e stderr >>"$RESULTS_DIR/logs/$1.log" 2>&1 </dev/null & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 100); do
    check "$(scenario_url h2-hello)" && check "$(scenario_url h2c-hello)" && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "$1 exited (see $RESULTS_DIR/logs/$1.log)"
    sleep 0.1
  done
  local sc
  for sc in $SCENARIOS; do
    check "$(scenario_url "$sc")" && continue
    [[ $1 == quantum ]] && log "is $BIN older than the HTTP/2 code? it is only built when missing:" \
      "flock /tmp/swift-build.lock swift build -c release --product quantum --scratch-path $SCRATCH"
    die "$1 does not answer $(scenario_url "$sc") correctly over HTTP/2 (see $RESULTS_DIR/logs/$1.log)"
  done
}
# CPU ticks (user + system) of the server's whole process group.
cpu_ticks() {
  local total=0 pid
  for pid in $(pgrep -g "$SERVER_PID" 2>/dev/null); do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $total
}
BUSY_PATTERN='swift-build|swift-test|xctest|wstest'
busy() { pgrep -f "$BUSY_PATTERN" >/dev/null 2>&1; }
wait_quiet() {
  [[ $WAIT_QUIET == 1 ]] || return 0
  local waited=0
  while busy; do
    ((waited == 0)) && log "waiting for builds/tests to finish: $(pgrep -fa "$BUSY_PATTERN" | cut -c1-80 | paste -sd';')"
    ((waited >= QUIET_TIMEOUT)) && { log "still busy after ${QUIET_TIMEOUT}s: measuring anyway"; return 0; }
    sleep 5; waited=$((waited + 5))
  done
  ((waited > 0)) && { log "quiet after ${waited}s"; sleep 5; }
  return 0
}
# load OUT ARGS... : h2load in the background (so INT/TERM reach the trap at once), bounded by timeout
load() {
  local out=$1; shift
  timeout "$LOAD_TIMEOUT" h2load -t"$H2_THREADS" -c"$CONNS" -m"$STREAMS" "$@" >"$out" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || true
  LOAD_PID=""
}
if [[ -n $H2_N ]]; then
  MEASURE=(-n "$H2_N") WARM=(-n "$H2_WARM_N") LOAD_TIMEOUT=600
else
  MEASURE=(-D "$DURATION") WARM=(-D "$WARMUP")
  secs=$(python3 -c 'import re,sys; m=re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", sys.argv[1]); v=float(m[1]); print(int(v*{"ms":.001,"s":1,"m":60,"h":3600}[m[2] or "s"]) + 60)' "$DURATION") \
    || die "DURATION=$DURATION: use e.g. 10s"
  LOAD_TIMEOUT=$secs
fi

{
  echo "date: $(date -u '+%F %T UTC')"
  echo "host: $CORES cores, kernel $(uname -r)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); caddy: $(caddy version | awk '{print $1}'); $(h2load --version | head -1); curl $(curl -V | head -1 | awk '{print $2}')"
  echo "quantum: $BIN ($(stat -c %y "$BIN" 2>/dev/null | cut -d. -f1)), git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
  echo "h2load -t$H2_THREADS -c$CONNS -m$STREAMS ${MEASURE[*]} (warm-up ${WARM[*]}); rounds: $ROUNDS; peers: $PEERS; scenarios: $SCENARIOS"
} >"$RESULTS_DIR/meta.txt"
cat "$RESULTS_DIR/meta.txt" >&2

echo "round,scenario,peer,requests_per_s,mb_per_s,succeeded,failed,errored,timeout,non_2xx,protocol,cipher,cpu_us_per_request,load1,busy" >"$RESULTS_DIR/results.csv"
HZ=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  for scenario in $SCENARIOS; do
    url=$(scenario_url "$scenario")
    for peer in $PEERS; do
      wait_quiet
      load1=$(cut -d' ' -f1 /proc/loadavg)
      start_server "$peer"
      out=$RESULTS_DIR/logs/r$round-$scenario-$peer.txt
      load "$out.warm" "${WARM[@]}" "$url"
      before=$(cpu_ticks)
      load "$out" "${MEASURE[@]}" "$url"
      after=$(cpu_ticks)
      b=0; busy && b=1
      stop_server
      row=$(python3 - "$out" <<'PY'
import re, sys
t = open(sys.argv[1], errors="replace").read()
def g(p, d=""):
    m = re.search(p, t, re.M)
    return m.group(1).replace(",", "") if m else d
mb = g(r"^finished in .*? req/s, ([0-9.]+[KMG]?B)/s")
scale = {"B": 1e-6, "KB": 1e-3, "MB": 1, "GB": 1e3}
if mb:
    n, u = re.fullmatch(r"([0-9.]+)([KMG]?B)", mb).groups()
    mb = f"{float(n) * scale[u]:.1f}"
st = re.search(r"^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", t, re.M)
non2xx = sum(map(int, st.groups()[1:])) if st else ""
print(",".join(str(x) for x in [
    g(r"^finished in [0-9.]+m?s, ([0-9.]+) req/s"), mb,
    g(r"^requests: .*?(\d+) succeeded"), g(r"^requests: .*?(\d+) failed"),
    g(r"^requests: .*?(\d+) errored"), g(r"^requests: .*?(\d+) timeout"), non2xx,
    g(r"^Application protocol: (\S+)"), g(r"^Cipher: (\S+)", "-")]))
PY
)
      IFS=, read -r rps mb ok failed errored tmo non2xx proto cipher <<<"$row"
      cpu=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$ok" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "" }')
      echo "$round,$scenario,$peer,$rps,$mb,$ok,$failed,$errored,$tmo,$non2xx,$proto,$cipher,$cpu,$load1,$b" >>"$RESULTS_DIR/results.csv"
      note=""
      [[ $proto != h2 && $proto != h2c ]] && note+=" protocol=${proto:-none}!"
      [[ ${failed:-1} != 0 || ${errored:-1} != 0 || ${tmo:-1} != 0 || ${non2xx:-1} != 0 ]] && note+=" failed=$failed errored=$errored timeout=$tmo non-2xx=$non2xx (see $out)"
      ((b)) && note+=" (a build/test ran meanwhile)"
      log "round $round $scenario $peer: ${rps:-?} req/s, ${mb:-?} MB/s, ${cpu:-?} us CPU/request, $proto $cipher$note"
    done
  done
done

python3 - "$RESULTS_DIR/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
num = lambda s: float(s) if s not in ("", None) else None
def ratio_stats(scenario, peer, ref):
    rs = []
    for r in rows:
        if r["scenario"] != scenario or r["peer"] != peer: continue
        other = [o for o in rows if o["round"] == r["round"] and o["scenario"] == scenario and o["peer"] == ref]
        if other and num(r["requests_per_s"]) and num(other[0]["requests_per_s"]):
            rs.append(num(r["requests_per_s"]) / num(other[0]["requests_per_s"]))
    if not rs: return "–"
    if peer == ref: return "1.00"
    return f"{statistics.median(rs):.2f} ({min(rs):.2f}–{max(rs):.2f})"
peers = list(dict.fromkeys(r["peer"] for r in rows))
print("| scenario | peer | req/s (median) | min–max req/s | vs nginx (min–max) | vs caddy (min–max) | MB/s | CPU µs/request | failed/errored |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for scenario in dict.fromkeys(r["scenario"] for r in rows):
    for peer in peers:
        mine = [r for r in rows if r["scenario"] == scenario and r["peer"] == peer]
        rps = [num(r["requests_per_s"]) for r in mine if num(r["requests_per_s"]) is not None]
        if not rps: continue
        mbs = [num(r["mb_per_s"]) for r in mine if num(r["mb_per_s"]) is not None]
        cpu = [num(r["cpu_us_per_request"]) for r in mine if num(r["cpu_us_per_request"]) is not None]
        bad = sum(int(r[k] or 0) for r in mine for k in ("failed", "errored", "timeout", "non_2xx"))
        protos = {r["protocol"] for r in mine} - {"h2", "h2c"}
        note = f"{bad}" + (f", protocol {','.join(sorted(protos))}!" if protos else "")
        print(f"| {scenario} | {peer} | {statistics.median(rps):,.0f} | {min(rps):,.0f}–{max(rps):,.0f} | "
              f"{ratio_stats(scenario, peer, 'nginx')} | {ratio_stats(scenario, peer, 'caddy')} | "
              f"{statistics.median(mbs):,.0f} | {statistics.median(cpu):.1f} | {note} |")
busy = sum(r["busy"] == "1" for r in rows)
if busy: print(f"\n{busy} of {len(rows)} runs overlapped a build/test (busy=1 in results.csv).")
PY
log "results: $RESULTS_DIR/results.csv (h2load outputs in $RESULTS_DIR/logs)"
