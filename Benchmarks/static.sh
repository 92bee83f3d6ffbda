#!/usr/bin/env bash
# Static files side by side: Quantum, nginx and caddy serving 1 KiB, 100 KiB and 10 MiB files
# over keep-alive HTTP/1.1, interleaved in rounds on 127.0.0.1. Quantum and caddy run the very
# same Caddy JSON config; nginx gets the equivalent (sendfile on, access log off).
# Prints median req/s, MB/s, server CPU µs/request and the ratio to nginx (median of per-round
# ratios, so the machine's drift cancels out).
#
#   Benchmarks/static.sh                  # ROUNDS=3 DURATION=6s CONNS=32
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}; DURATION=${DURATION:-6s}; CONNS=${CONNS:-32}
SCRATCH=${SCRATCH:-$ROOT/.build-release}
swift build -c release --product quantum --scratch-path "$SCRATCH" >/dev/null
BIN=$SCRATCH/release/quantum
RUN=$(mktemp -d "${TMPDIR:-/tmp}/quantum-static-bench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$RUN"' EXIT
mkdir -p "$RUN/www/static"
chmod 755 "$RUN"  # nginx workers run as www-data
head -c 1024 /dev/urandom > "$RUN/www/static/1k.bin"
head -c 102400 /dev/urandom > "$RUN/www/static/100k.bin"
head -c 10485760 /dev/urandom > "$RUN/www/static/10m.bin"
caddy_json() {
  cat <<JSON
{"admin": {"disabled": true}, "apps": {"http": {"servers": {"static": {"listen": ["127.0.0.1:$1"],
 "automatic_https": {"disable": true}, "routes": [{"handle": [{"handler": "file_server", "root": "$RUN/www"}]}]}}}}}
JSON
}
chmod -R a+rX "$RUN/www"
caddy_json 18183 > "$RUN/quantum.json"; caddy_json 18182 > "$RUN/caddy.json"
cat > "$RUN/nginx.conf" <<CONF
worker_processes 2; daemon off; pid $RUN/nginx.pid; error_log $RUN/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  server { listen 127.0.0.1:18181; root $RUN/www; } }
CONF
cpu_ticks() { for p in "$@"; do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null; done | paste -sd+ | bc; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/static/1k.bin" && return 0; sleep 0.05; done; return 1; }
results=$RUN/results.csv
for round in $(seq "$ROUNDS"); do
  for file in 1k 100k 10m; do
    for peer in quantum nginx caddy; do
      case $peer in
        quantum) "$BIN" run --config "$RUN/quantum.json" >/dev/null 2>&1 & port=18183 ;;
        nginx) nginx -c "$RUN/nginx.conf" -p "$RUN" >/dev/null 2>&1 & port=18181 ;;
        caddy) caddy run --config "$RUN/caddy.json" >/dev/null 2>&1 & port=18182 ;;
      esac
      main=$!
      wait_port $port
      pids="$main $(pgrep -P $main | tr "\n" " " || true)"
      url="http://127.0.0.1:$port/static/$file.bin"
      wrk -t1 -c"$CONNS" -d1s "$url" >/dev/null
      t0=$(cpu_ticks $pids)
      out=$(wrk -t1 -c"$CONNS" -d"$DURATION" "$url")
      t1=$(cpu_ticks $pids)
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      echo "$round,$file,$peer,$rps,$reqs,$((t1 - t0))" >> "$results"
      kill $main; wait $main 2>/dev/null || true
    done
  done
done
python3 - "$results" "$(getconf CLK_TCK)" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1]))); tck = int(sys.argv[2])
size = {"1k": 1024, "100k": 102400, "10m": 10485760}
print("| file | peer | median req/s | median MB/s | CPU µs/req | vs nginx (min–max) |")
print("|---|---|---:|---:|---:|---:|")
for f in ["1k", "100k", "10m"]:
    for peer in ["quantum", "nginx", "caddy"]:
        mine = [r for r in rows if r[1] == f and r[2] == peer]
        rps = [float(r[3]) for r in mine]
        cpu = [int(r[5]) / tck * 1e6 / int(r[4]) for r in mine]
        ratios = []
        for r in mine:
            n = [x for x in rows if x[0] == r[0] and x[1] == f and x[2] == "nginx"][0]
            ratios.append(float(r[3]) / float(n[3]))
        m = statistics.median(rps)
        print(f"| {f} | {peer} | {m:,.0f} | {m * size[f] / 1e6:,.0f} | {statistics.median(cpu):.1f} | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |")
PY
