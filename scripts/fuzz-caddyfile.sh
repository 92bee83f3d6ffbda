#!/usr/bin/env bash
# A longer Caddyfile fuzzing run than CI's time box: random byte mutations of the project's own
# documented Caddyfiles and, when it is beside the repository, Caddy's adapter corpus.
# Usage: scripts/fuzz-caddyfile.sh [MUTATIONS]   (default 200000 per test)
set -euo pipefail
cd "$(dirname "$0")/.."
CADDYFILE_FUZZ_MUTATIONS="${1:-200000}" swift test --filter 'CaddyfileFuzzTests|CaddyfileCorpusConformanceTests/testMutatedCorpusNeverCrashesOrHangs'
