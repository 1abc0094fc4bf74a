#!/usr/bin/env bash
# Installs what nnkit needs from Debian when it is missing: zlib and json-c headers.
# Runs apt-get with sudo when not root. Safe to run again.
set -euo pipefail
missing=()
for pkg in zlib1g-dev libjson-c-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
