#!/usr/bin/env bash
# Static files side by side: Quantum, nginx and caddy serving 1 KiB, 100 KiB and 10 MiB files over
# keep-alive HTTP/1.1 (file_server; nginx with sendfile on), interleaved in rounds on 127.0.0.1:
# Benchmarks/compare.py's static-1k, static-100k and static-10m scenarios (req/s, ratios to nginx and
# caddy as medians of per-round ratios, p99, server CPU µs/request). Further arguments go to compare.py.
#
#   Benchmarks/static.sh                            # ROUNDS=3 DURATION=6s CONNS=32
#   ROUNDS=5 Benchmarks/static.sh --peers nginx,quantum
set -euo pipefail
exec python3 "$(dirname "$0")/compare.py" --scenarios static-1k,static-100k,static-10m \
  --rounds "${ROUNDS:-3}" --duration "${DURATION:-6s}" --conns "${CONNS:-32}" "$@"
