#!/usr/bin/env bash
# Installs the Debian packages Quantum's build and tests use, when any is missing.
# Idempotent and quiet when everything is present. Runs apt-get through sudo when not root.
set -euo pipefail
packages=(curl openssl python3 caddy zlib1g-dev libzstd-dev libbrotli-dev libssl-dev gzip zstd brotli python3-websockets)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
