#!/usr/bin/env bash
# Set-up, then the whole test suite (unit, golden, fixture round-trips, end-to-end on the built tools).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product nntrain
swift build -c release --product nninfer
swift build -c release --product nninspect
swift test --parallel
