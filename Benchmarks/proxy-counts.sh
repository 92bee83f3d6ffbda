#!/usr/bin/env bash
# Exact work per proxied request, for tuning: calls to swift_retain, swift_release,
# swift_bridgeObjectRetain/Release and malloc (uprobes), and the socket system calls (tracepoints),
# counted with `perf stat` while wrk -t1 -c8 runs 2 s through each binary (Benchmarks/proxy.json
# on 127.0.0.1:18082) to one nginx upstream (1 worker answering any path with "Hello, World!", on
# 127.0.0.1:18999, the port Benchmarks/proxy.json dials; its config is written below).
#
#   Benchmarks/proxy-counts.sh OLD_BINARY NEW_BINARY
#
# Counts do not drift with the machine's speed the way timings do (on this 2-core VM the same
# binary's CPU per request moves ±10 % between runs), so a change that removes work shows up
# here even when a timed A/B cannot separate it from noise. Needs perf and root (uprobes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 BINARY [BINARY...]" >&2; exit 2; }
for tool in perf nginx wrk curl; do command -v $tool >/dev/null || { echo "$tool not found" >&2; exit 1; }; done
if ss -Hltn '( sport = :18082 or sport = :18999 )' | grep -q .; then
  echo "port 18082 or 18999 is already in use: stop that server first" >&2; exit 1
fi
SWIFTCORE=$(ldd "$1" | awk '/libswiftCore/ {print $3}')
LIBC=$(ldd "$1" | awk '/libc\.so/ {print $3}')
for f in swift_retain swift_release swift_bridgeObjectRetain swift_bridgeObjectRelease; do
  perf probe -q -x "$SWIFTCORE" "$f" 2>/dev/null || true
done
perf probe -q -x "$LIBC" malloc 2>/dev/null || true
EVENTS=probe_libswiftCore:swift_retain,probe_libswiftCore:swift_release,probe_libswiftCore:swift_bridgeObjectRetain
EVENTS+=,probe_libswiftCore:swift_bridgeObjectRelease,probe_libc:malloc
EVENTS+=,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_read
EVENTS+=,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_ctl

RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-proxy-counts.XXXXXX")
mkdir -p "$RUN/upstream-tmp"
cat > "$RUN/upstream.conf" <<'EOF'
daemon off; master_process on; worker_processes 1; pid upstream.pid; error_log stderr warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path upstream-tmp/body; proxy_temp_path upstream-tmp/proxy;
  fastcgi_temp_path upstream-tmp/fastcgi; uwsgi_temp_path upstream-tmp/uwsgi; scgi_temp_path upstream-tmp/scgi;
  server { listen 127.0.0.1:18999; location / { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; } } }
EOF
SERVER=""
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; [[ -n ${UPSTREAM:-} ]] && kill "$UPSTREAM" 2>/dev/null; rm -rf "$RUN"; }
trap cleanup EXIT
nginx -p "$RUN/" -c upstream.conf -e stderr >/dev/null 2>&1 & UPSTREAM=$!
url=http://127.0.0.1:18082/proxy/bench/item
for bin in "$@"; do
  "$bin" run --config "$ROOT/Benchmarks/proxy.json" >/dev/null 2>&1 & SERVER=$!
  for _ in $(seq 50); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
  wrk -t1 -c8 -d1s "$url" >/dev/null
  perf stat -x, -e "$EVENTS" -p "$SERVER" -o "$RUN/stat.txt" -- sleep 2.6 >/dev/null 2>&1 & STAT=$!
  sleep 0.2
  requests=$(wrk -t1 -c8 -d2s "$url" | awk '/requests in/ {print $1}')
  wait $STAT
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  echo "$bin ($requests requests)"
  awk -F, -v n="$requests" '$3 ~ /:/ && $1 ~ /^[0-9]+$/ && $1 > 0 { printf "  %-48s %8.2f per request\n", $3, $1 / n }' "$RUN/stat.txt"
done
