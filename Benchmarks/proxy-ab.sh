#!/usr/bin/env bash
# A/B of Quantum binaries as reverse proxies, with nginx alongside, in one run: for tuning work,
# where a few percent matter and the machine's speed drifts more than that between runs.
#
#   Benchmarks/proxy-ab.sh OLD_BINARY NEW_BINARY            # ROUNDS=5 DURATION=8s
#   ROUNDS=8 Benchmarks/proxy-ab.sh /tmp/quantum-before .build-release/release/quantum
#
# Each round starts every binary (Benchmarks/proxy.json on 127.0.0.1:18082) and an nginx proxy
# (2 workers, `keepalive 64` to the upstream, on 127.0.0.1:18081) fresh, warms it up for 2 s,
# then runs wrk -t1 -c64 for DURATION against /proxy/bench/item; all proxy to one nginx upstream
# (../shared/bench/peers/upstream-nginx.conf, 127.0.0.1:18999). Prints one line per run (req/s,
# on-CPU time per request from every thread's schedstat — exact, unlike the tick-sampled user/sys
# split that follows it — # and the server's user and system CPU per request from /proc) and the means per binary.
# Benchmarks/proxy.sh stays the benchmark of record (caddy too, per-round ratios, pool checks).
# Benchmarks/proxy-counts.sh counts the work itself (refcounting, mallocs, system calls per request),
# which does not drift with the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-8s}
[[ $# -ge 1 ]] || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
for tool in nginx wrk curl; do command -v $tool >/dev/null || { echo "$tool not found" >&2; exit 1; }; done
# A server left listening on these ports (SO_REUSEPORT) would silently take part of the load.
if ss -Hltn '( sport = :18081 or sport = :18082 or sport = :18999 )' | grep -q .; then
  echo "a port of this benchmark (18081, 18082, 18999) is already in use: stop that server first" >&2; exit 1
fi
RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-proxy-ab.XXXXXX")
mkdir -p "$RUN/upstream-tmp" "$RUN/proxy-tmp"
cp "$SHARED/bench/peers/upstream-nginx.conf" "$RUN/upstream.conf"
cat > "$RUN/nginx.conf" <<'EOF'
daemon off; master_process on; worker_processes 2; pid nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path proxy-tmp/b; proxy_temp_path proxy-tmp/p; fastcgi_temp_path proxy-tmp/f;
  uwsgi_temp_path proxy-tmp/u; scgi_temp_path proxy-tmp/s;
  upstream up { server 127.0.0.1:18999; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:18081; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
EOF
SERVER=""
stop_server() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null && while kill -0 "$SERVER" 2>/dev/null; do sleep 0.1; done; SERVER=""; }
cleanup() { stop_server; [[ -n ${UPSTREAM:-} ]] && kill "$UPSTREAM" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT
nginx -p "$RUN/" -c upstream.conf -e stderr 2>/dev/null & UPSTREAM=$!

cpu() {
  local u=0 s=0 ns=0 f t
  for p in $1 $(pgrep -P "$1" | tr '\n' ' '); do
    read -r -a f < "/proc/$p/stat"; u=$((u + f[13])); s=$((s + f[14]))
    for t in /proc/$p/task/*/schedstat; do read -r -a f < "$t" && ns=$((ns + f[0])); done
  done
  echo "$u $s $ns"
}

# The order rotates each round: whichever runs first in a round does measurably better here.
peers=("$@" nginx)
for round in $(seq "$ROUNDS"); do
  for k in $(seq 0 $((${#peers[@]} - 1))); do
    bin=${peers[$(( (k + round) % ${#peers[@]} ))]}
    if [[ $bin == nginx ]]; then
      nginx -p "$RUN/" -c nginx.conf -e stderr 2>/dev/null & SERVER=$!; url=http://127.0.0.1:18081/proxy/bench/item
    else
      "$bin" run --config "$ROOT/Benchmarks/proxy.json" >/dev/null 2>&1 & SERVER=$!; url=http://127.0.0.1:18082/proxy/bench/item
    fi
    for _ in $(seq 50); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
    wrk -t1 -c64 -d2s "$url" >/dev/null
    read -r u0 s0 c0 <<< "$(cpu "$SERVER")"
    out=$(wrk -t1 -c64 -d"$DURATION" "$url")
    read -r u1 s1 c1 <<< "$(cpu "$SERVER")"
    stop_server
    requests=$(awk '/requests in/ {print $1}' <<< "$out")
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    awk -v b="$bin" -v r="$round" -v rps="$rps" -v c=$((c1 - c0)) -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "round %d  %-40s %9.0f req/s  cpu %5.2f  user %5.2f  sys %5.2f µs/req\n", r, b, rps, c / 1e3 / n, u / hz * 1e6 / n, s / hz * 1e6 / n }'
  done
done | tee "$RUN/runs.txt"
echo
awk '{ n[$3]++; r[$3] += $4; c[$3] += $7; u[$3] += $9; s[$3] += $11 }
     END { for (b in n) printf "%-40s mean %9.0f req/s  cpu %5.2f  user %5.2f  sys %5.2f µs/req  (%d runs)\n", b, r[b] / n[b], c[b] / n[b], u[b] / n[b], s[b] / n[b], n[b] }' "$RUN/runs.txt"
