#!/usr/bin/env bash
# Autobahn|Testsuite (the WebSocket fuzzing client) against `quantum run` serving
# `websocket_echo` with permessage-deflate enabled. Prints the per-behaviour counts and a closing
# line `N passed, N failed`; exits non-zero if any case failed or did not run.
#
#   scripts/autobahn-check.sh          CI run: sections 1–11 (301 cases) and, of the deflate
#                                      sections, cases 1–5 (messages of 16 B to 4 KiB) of every
#                                      12.x payload kind and every 13.x parameter offer (60 cases)
#   scripts/autobahn-check.sh --all    every case of sections 1–13 (517). Cases 6–18 of 12.x/13.x
#                                      send 1,000 messages of 8 KiB to 128 KiB each through zlib on
#                                      both sides and the Python 2 peer: tens of minutes on 2 cores
#   AUTOBAHN_CASES="9.* 12.3.*" scripts/autobahn-check.sh     case ids, or prefixes ending in '*'
#
# passed = OK + NON-STRICT + INFORMATIONAL (as ../shared/tools/autobahn.sh counts them). Every case
# the patterns select must have run: one missing from the report (a crashed server) is a failure.
# The Python 2.7 virtualenv with wstest is made on first use (about 40 s; see autobahn.sh).
# QUANTUM_BIN picks the server binary; by default the release build is brought up to date (a
# debug server is CPU-bound on the deflate cases and makes them several times slower).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
autobahn=${AUTOBAHN_SCRIPT:-$root/../shared/tools/autobahn.sh}
if [[ ! -f $autobahn ]]; then
    echo "autobahn-check: $autobahn not found"
    echo "0 passed, 1 failed"
    exit 1
fi

# wstest's case patterns know only '*' (a prefix regex), so the deflate subset is listed by id.
deflate_subset=""
for g in 1 2 3 4 5; do for c in 1 2 3 4 5; do deflate_subset+=" 12.$g.$c"; done; done
for g in 1 2 3 4 5 6 7; do for c in 1 2 3 4 5; do deflate_subset+=" 13.$g.$c"; done; done
case "${1:-}" in
    --all) cases=${AUTOBAHN_CASES:-"*"} ;;
    "") cases=${AUTOBAHN_CASES:-"1.* 2.* 3.* 4.* 5.* 6.* 7.* 8.* 9.* 10.* 11.*$deflate_subset"} ;;
    *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac

if [[ -n ${QUANTUM_BIN:-} ]]; then
    bin=$QUANTUM_BIN
else
    swift build -c release --product quantum >&2
    bin=$(swift build -c release --show-bin-path)/quantum
fi

work=$(mktemp -d -t quantum-autobahn-check.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/config.json" <<JSON
{"apps": {"http": {"servers": {"autobahn": {
  "listen": ["127.0.0.1:$port"],
  "routes": [{"match": [{"path": ["/echo"]}],
              "handle": [{"handler": "websocket_echo", "compression": true}]}]
}}}}}
JSON

"$bin" run --config "$work/config.json" > "$work/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

set +e
AUTOBAHN_CASES=$cases AUTOBAHN_EXCLUDE="" AUTOBAHN_OUTDIR="$work/autobahn" bash "$autobahn" "ws://127.0.0.1:$port/echo" > "$work/autobahn.out" 2>&1
rc=$?
set -e
grep -v '^[0-9]* passed, [0-9]* failed' "$work/autobahn.out" || true

# Recount from the report, checking that every selected case ran and the server is still up.
status=0
python3 - "$work/autobahn/reports/index.json" "$work/autobahn/wstest.log" "$rc" <<'PY' || status=$?
import json, os, re, sys
index, log, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
results = json.load(open(index)).get("quantum", {}) if os.path.exists(index) else {}
m = re.search(r"Ok, will run (\d+) test cases", open(log).read()) if os.path.exists(log) else None
expected = int(m.group(1)) if m else 0
good = {"OK", "NON-STRICT", "INFORMATIONAL"}
passed = sum(1 for v in results.values() if v["behavior"] in good)
failed = len(results) - passed
missing = max(expected - len(results), 0)
if missing:
    print(f"{missing} selected case(s) did not run (see {log})")
if not results:
    failed = max(failed, 1)
print(f"{passed} passed, {failed + missing} failed")
sys.exit(1 if failed + missing or rc else 0)
PY
if ! kill -0 "$server" 2>/dev/null; then
    echo "autobahn-check: the server exited during the run; its log:"
    tail -20 "$work/server.log"
    status=1
fi
exit $status
