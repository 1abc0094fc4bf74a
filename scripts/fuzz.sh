#!/usr/bin/env bash
# Builds one libFuzzer target of Fuzz/ (address sanitizer on) and runs it for SECONDS.
#
#   scripts/fuzz.sh TARGET SECONDS [more libFuzzer options]
#   scripts/fuzz.sh list                     # the targets
#   scripts/fuzz.sh TARGET replay            # run every corpus and regression file once
#
# TARGET: checkpoint-bytes, checkpoint-structured, csv, layers, manifest-json, inflate.
# Seeds come from Fuzz/corpus/TARGET (committed); inputs libFuzzer finds go to the working corpus
# Fuzz/.build/corpus/TARGET (not committed); crashes, timeouts and out-of-memory inputs are written
# to Fuzz/regressions/TARGET/ — minimize them (-minimize_crash=1) and commit them: the normal test
# suite replays that folder. Caps: 2 GB RSS, 1 GB per allocation (the fuzzers use reader caps far
# below that, so any bigger allocation is a cap violation), 10 s per input.
#
# Build (Swift 6.3.1 on Linux): SwiftPM's --sanitize fuzzer makes the link work (libFuzzer's main
# instead of the executable's), but SwiftPM passes its sanitizers as separate -sanitize= flags in an
# order that varies between runs, and swiftc keeps only the last one: half the builds lost the
# coverage instrumentation. The trailing -Xswiftc -sanitize=fuzzer,address fixes the set.
# -parse-as-library because the entry points are plain files exporting LLVMFuzzerTestOneInput.
# The script checks that the binary really has coverage counters before running it.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
targets="checkpoint-bytes checkpoint-structured csv layers manifest-json inflate"
if [[ "${1:-}" == list ]]; then echo "$targets"; exit 0; fi
if [[ $# -lt 2 ]] || [[ " $targets " != *" $1 "* ]]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS|replay [libFuzzer options]   (TARGET: $targets)" >&2
    exit 2
fi
target=$1; seconds=$2; shift 2
nice -n 19 swift build -c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    --product "fuzz-$target" 2>&1 | grep -v "Cannot export local symbol" >&2
binary=".build/release/fuzz-$target"
if ! objdump -h "$binary" | grep sancov_cntrs > /dev/null; then  # not grep -q: with pipefail, objdump would die of SIGPIPE
    echo "fuzz.sh: $binary has no coverage instrumentation (sancov); refusing to run it blind" >&2
    exit 1
fi
mkdir -p ".build/corpus/$target" "regressions/$target"
# Swift's backtracer trips AddressSanitizer after a crash; libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no
caps=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)
if [[ "$seconds" == replay ]]; then
    exec "$binary" "${caps[@]}" -runs=0 "corpus/$target" "regressions/$target" "$@"
fi
exec nice -n 19 "$binary" "${caps[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="regressions/$target/" ".build/corpus/$target" "corpus/$target" "$@"
