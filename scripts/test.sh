#!/usr/bin/env bash
# Set-up, then the whole test suite (unit, golden, fixture round-trips, end-to-end on the built tools).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# End-to-end tests run the release tools, as users run them.
swift build -c release
export NNKIT_BIN_DIR="$(swift build -c release --show-bin-path)"
results=.build/test-results.xml
rm -f "$results"
status=0
swift test --parallel --disable-swift-testing --xunit-output "$results" || status=$?
# One closing line with the counts (XCTest's parallel runner prints none of its own).
if [ -f "$results" ]; then
  summary=$(grep -m1 '<testsuite ' "$results")
  tests=$(sed -E 's/.* tests="([0-9]+)".*/\1/' <<<"$summary")
  failures=$(sed -E 's/.* failures="([0-9]+)".*/\1/' <<<"$summary")
  errors=$(sed -E 's/.* errors="([0-9]+)".*/\1/' <<<"$summary")
  failed=$((failures + errors))
  echo "tests: $((tests - failed)) passed, $failed failed"
fi
# The benchmark suite in --quick mode, nnkit's side only, so it cannot rot: it checks that every
# workload runs and every table is printed, never a timing (a shared CI machine times nothing).
bench_status=0
Benchmarks/run --quick --no-peers --out .build/bench-quick --data .build/bench-quick-data \
  > .build/bench-quick.log 2>&1 || bench_status=$?
if [ "$bench_status" -eq 0 ]; then
  echo "benchmarks (--quick, timings not checked): every table printed; tables in .build/bench-quick/RESULTS.md"
else
  tail -n 40 .build/bench-quick.log
  echo "benchmarks (--quick): FAILED (exit $bench_status); log in .build/bench-quick.log"
  [ "$status" -ne 0 ] || status=$bench_status
fi
exit "$status"
