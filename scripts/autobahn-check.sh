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
# passed = OK + NON-STRICT + INFORMATIONAL. Every case the patterns select must have run: one
# missing from the report (a crashed server) is a failure.
# The suite's `wstest` runs only under Python 2.7 (autobahntestsuite 25.10 is Python 2 code; Debian
# 12 has no python2): the first run makes a Python 2.7 virtualenv with it (about 40 s, cached in
# AUTOBAHN_VENV, default ${TMPDIR:-/tmp}/quantum-autobahn-py27) from pyenv's 2.7 or a python2.7 on
# PATH. With neither, the check is skipped and says why.
# QUANTUM_BIN picks the server binary; by default the release build is brought up to date (a
# debug server is CPU-bound on the deflate cases and makes them several times slower).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv=${AUTOBAHN_VENV:-${TMPDIR:-/tmp}/quantum-autobahn-py27}

# A Python 2.7 interpreter: pyenv's (any 2.7.x it has), else one on PATH.
python27() {
    local candidate
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/2.7*/bin/python2.7; do
            [[ -x $candidate ]] && { echo "$candidate"; return 0; }
        done
    fi
    for candidate in "$HOME"/.pyenv/versions/2.7*/bin/python2.7 /root/.pyenv/versions/2.7*/bin/python2.7; do
        [[ -x $candidate ]] && { echo "$candidate"; return 0; }
    done
    command -v python2.7 2>/dev/null
}
if [[ ! -x $venv/bin/wstest ]]; then
    py27=$(python27 || true)
    if [[ -z $py27 ]]; then
        echo "autobahn-check: skipped: the Autobahn suite needs Python 2.7 (pyenv's or python2.7 on PATH), and this machine has none"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
    # Python 2.7 has no venv module: virtualenv 20.21 (the last that makes 2.7 environments) does it.
    boot=$(mktemp -d -t quantum-autobahn-boot.XXXXXX)
    python3 -m venv "$boot" >&2
    "$boot/bin/pip" install -q 'virtualenv==20.21.1' >&2
    "$boot/bin/virtualenv" -q -p "$py27" "$venv" >&2
    rm -rf "$boot"
    "$venv/bin/pip" install -q 'autobahntestsuite==25.10.1' >&2
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

# The fuzzing client's spec: every selected case against the echo endpoint, none excluded.
mkdir -p "$work/autobahn"
# (The patterns go through the environment: unquoted, "*" would be globbed against this folder.)
SELECTED_CASES=$cases python3 - "$work/autobahn/spec.json" "ws://127.0.0.1:$port/echo" <<'PY'
import json, os, sys
path, url, cases = sys.argv[1], sys.argv[2], os.environ["SELECTED_CASES"].split()
json.dump({"outdir": "./reports", "servers": [{"agent": "quantum", "url": url}],
           "cases": cases, "exclude-cases": [], "exclude-agent-cases": {}}, open(path, "w"))
PY
set +e
(cd "$work/autobahn" && timeout "${AUTOBAHN_TIMEOUT:-2400}" "$venv/bin/wstest" -m fuzzingclient -s spec.json) > "$work/autobahn/wstest.log" 2>&1
rc=$?
set -e
# The per-behaviour counts, as the report has them.
python3 - "$work/autobahn/reports/index.json" <<'PY' || true
import collections, json, os, sys
if os.path.exists(sys.argv[1]):
    for agent, results in json.load(open(sys.argv[1])).items():
        print(agent, dict(collections.Counter(v["behavior"] for v in results.values())))
PY

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
