#!/usr/bin/env bash
# Side-by-side benchmark of Quantum against nginx and caddy on this machine, then Quantum's idle RSS
# and its RSS under 1,000 keep-alive connections (nginx beside it).
# The side by side is Benchmarks/compare.py (hello, static-1k, static-100k, proxy and h2c-hello by
# default; rounds interleaved, ratios from the same run; see compare.py --help); RSS is Benchmarks/rss.py
# with Benchmarks/bench.json (its fixed port 127.0.0.1:18082 must be free).
#
#   Benchmarks/run.sh                               # compare.py's defaults: 5 rounds of 8 s
#   ROUNDS=3 DURATION=10s Benchmarks/run.sh
#   SCENARIOS="hello static-1k" Benchmarks/run.sh --conns 128    # further arguments go to compare.py
#
# Needs: nginx-light caddy wrk nghttp2-client curl (apt). Builds .build-release/release/quantum first
# (swift build -c release, under /tmp/swift-build.lock); proxy.sh, tls.sh and h2.sh cover the rest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=${SCRATCH:-$ROOT/.build-release}
flock /tmp/swift-build.lock swift build -c release --product quantum --package-path "$ROOT" --scratch-path "$SCRATCH" >/dev/null
BIN=$SCRATCH/release/quantum
SCENARIOS=${SCENARIOS:-hello,static-1k,static-100k,proxy,h2c-hello}
# shellcheck disable=SC2086  # ${VAR:+--option "$VAR"}: the option only when VAR is set
python3 "$ROOT/Benchmarks/compare.py" --quantum "quantum=$BIN" --scenarios "${SCENARIOS// /,}" \
  ${ROUNDS:+--rounds "$ROUNDS"} ${DURATION:+--duration "$DURATION"} ${RESULTS_DIR:+--results "$RESULTS_DIR"} "$@"
echo
python3 "$ROOT/Benchmarks/rss.py" "$BIN" "$ROOT/Benchmarks/bench.json"
