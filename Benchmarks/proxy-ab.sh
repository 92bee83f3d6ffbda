#!/usr/bin/env bash
# A/B of two Quantum binaries as reverse proxies, nginx alongside, in one interleaved run (for tuning work, where
# a few percent matter and the machine drifts more than that between runs): compare.py's proxy scenario.
#   Benchmarks/proxy-ab.sh OLD_BINARY NEW_BINARY [compare.py options, e.g. --rounds 8]
exec python3 "$(dirname "$0")/compare.py" --scenarios proxy --peers nginx,quantum \
  --quantum "old=${1:?usage: $0 OLD_BINARY NEW_BINARY [compare.py options]}" --quantum "new=${2:?usage: $0 OLD_BINARY NEW_BINARY}" "${@:3}"
