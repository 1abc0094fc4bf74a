#!/bin/sh
# CSV → Float32 matrix: NNData against pandas' C and pyarrow engines, interleaved in one session
# (the machine is shared: rounds alternate readers, and each reader's best round is reported).
# Usage: Tests/NNDataTests/bench/csv_bench.sh /tmp/bench-data/w2_train.csv [PYTHON] [ROUNDS]
# Needs a release build of NNData: swift build -c release --scratch-path .build-data --target NNData
set -e
file=${1:?CSV file}
python=${2:-$HOME/.cache/nnkit-peers/bin/python}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=$root/.build-data/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/main.swift" <<'SWIFT'
import NNData
import NNParallel
import Glibc

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }
let path = CommandLine.arguments[1]
let threads = Int(CommandLine.arguments[2])!
var st = stat(); stat(path, &st)
let pool = WorkerPool(threads: threads)
var best = Double.infinity
for _ in 0..<2 {
    let t0 = now()
    let loaded = try! loadCSV(path: path, pool: pool, computeSHA256: false) { try ColumnPlan.training(header: $0) }
    best = min(best, now() - t0)
    precondition(loaded.rows.rowCount > 0)
}
print("{\"reader\": \"nndata\", \"threads\": \(threads), \"seconds\": \(best), \"MBps\": \(Double(st.st_size) / 1e6 / best)}")
SWIFT
cat > "$work/peer.py" <<'PY'
import sys, time, os, json
path, threads = sys.argv[1], int(sys.argv[2])
os.environ["OMP_NUM_THREADS"] = str(threads)
import numpy as np, pandas as pd, pyarrow
pyarrow.set_cpu_count(threads); pyarrow.set_io_thread_count(threads)
mb = os.path.getsize(path) / 1e6
for engine in ["c", "pyarrow"]:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        df = pd.read_csv(path, engine=engine)
        X = df.iloc[:, :-1].to_numpy(dtype=np.float32)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"reader": "pandas-" + engine, "threads": threads, "seconds": best, "MBps": mb / best}))
PY
swiftc -O -wmo -I "$build/Modules" "$work/main.swift" "$build"/NNData.build/*.o "$build"/NNParallel.build/*.o "$build"/NNEngine.build/*.o -o "$work/bench" 2>&1 | grep -v warning || true
round=0
while [ $round -lt $rounds ]; do
    for threads in 1 2; do
        "$work/bench" "$file" $threads
        "$python" "$work/peer.py" "$file" $threads
    done
    round=$((round + 1))
done > "$work/results.jsonl"
cat "$work/results.jsonl"
"$python" - "$work/results.jsonl" <<'PY'
import json, sys
best = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["reader"], r["threads"])
    best[key] = min(best.get(key, float("inf")), r["seconds"])
for threads in (1, 2):
    ours = best[("nndata", threads)]
    peer = min(best[("pandas-c", threads)], best[("pandas-pyarrow", threads)])
    print(f"threads={threads}: nndata {ours:.3f} s, best pandas engine {peer:.3f} s, ratio {peer / ours:.2f}x")
PY
