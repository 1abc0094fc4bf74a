#!/usr/bin/env bash
# Set-up, then the whole test suite (unit, golden, fixture round-trips, end-to-end on the built tools).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# End-to-end tests run the release tools, as users run them.
swift build -c release
export NNKIT_BIN_DIR="$(swift build -c release --show-bin-path)"
swift test --parallel
