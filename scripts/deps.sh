#!/usr/bin/env bash
# Installs the Debian packages Quantum's build and tests use, when any is missing, and the
# Python virtualenv with Selenium that the browser test drives headless Chromium with.
# Idempotent and quiet when everything is present. Runs apt-get through sudo when not root.
set -euo pipefail
packages=(curl openssl python3 python3-venv caddy zlib1g-dev libzstd-dev libbrotli-dev libssl-dev libcrypt-dev libnghttp2-dev nghttp2-client gzip zstd brotli python3-websockets prometheus
          chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Python h2 for the HTTP/2 frame-level tests (Tests/QuantumCoreTests/HTTP2FrameTests.swift).
h2venv="${TMPDIR:-/tmp}/quantum-h2-venv"
if ! "$h2venv/bin/python" -c "import h2" >/dev/null 2>&1; then
  python3 -m venv "$h2venv"
  "$h2venv/bin/pip" install -q 'h2==4.4.1'
fi
# Selenium for the file_sync page test (Tests/QuantumFileSyncTests/BrowserPageTests.swift).
venv="${TMPDIR:-/tmp}/quantum-browser-venv"
if ! "$venv/bin/python" -c "import selenium" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'selenium==4.51.0'
fi
