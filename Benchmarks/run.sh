#!/usr/bin/env bash
# Side-by-side benchmark of Quantum against nginx and caddy on this machine, interleaved in
# rounds by ../shared/bench/compare.sh (ratios come from the same run), then idle RSS and RSS
# under 1,000 keep-alive connections.
#
#   Benchmarks/run.sh                     # hello scenario, 3 rounds
#   ROUNDS=5 DURATION=10s Benchmarks/run.sh
#
# Needs: nginx-light caddy wrk (apt). Quantum serves Benchmarks/bench.json (hello with routing,
# Date and Server headers; /static/* from file_server); proxy.sh, tls.sh and h2.sh cover the rest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
SCRATCH=${SCRATCH:-$ROOT/.build-release}
flock /tmp/swift-build.lock swift build -c release --product quantum --scratch-path "$SCRATCH" >/dev/null
BIN=$SCRATCH/release/quantum
export RESULTS_DIR=${RESULTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/quantum-bench.XXXXXX")}
QUANTUM_CMD="$BIN run --config $ROOT/Benchmarks/bench.json" QUANTUM_H2C_PORT=none \
  SCENARIOS=${SCENARIOS:-"hello static-1k static-100k"} ROUNDS=${ROUNDS:-3} "$SHARED/bench/compare.sh"
python3 "$SHARED/bench/report.py" "$RESULTS_DIR" || true
echo
python3 "$ROOT/Benchmarks/rss.py" "$BIN" "$ROOT/Benchmarks/bench.json"
