#!/bin/sh
# CSV → Float32 matrix benchmark for NNData against pandas (C and pyarrow engines), same session.
# Usage: Tests/NNDataTests/bench/csv_bench.sh /tmp/bench-data/w2_train.csv [PYTHON]
# Needs a release build of NNData: swift build -c release --scratch-path .build-data --target NNData
set -e
file=${1:?CSV file}
python=${2:-$HOME/.cache/nnkit-peers/bin/python}
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
var st = stat(); stat(path, &st)
let megabytes = Double(st.st_size) / 1e6
for threads in [1, 2] {
    let pool = WorkerPool(threads: threads)
    var best = Double.infinity
    var checksum: Float = 0
    for _ in 0..<5 {
        let t0 = now()
        let loaded = try! loadCSV(path: path, pool: pool, computeSHA256: false) { try ColumnPlan.training(header: $0) }
        best = min(best, now() - t0)
        checksum = loaded.rows.features.reduce(0, +)
    }
    print("{\"reader\": \"nndata\", \"threads\": \(threads), \"seconds\": \(best), \"MBps\": \(megabytes / best), \"checksum\": \(checksum)}")
}
SWIFT
swiftc -O -wmo -I "$build/Modules" "$work/main.swift" "$build"/NNData.build/*.o "$build"/NNParallel.build/*.o "$build"/NNEngine.build/*.o -o "$work/bench" 2>&1 | grep -v warning || true
"$work/bench" "$file"
for threads in 1 2; do
OMP_NUM_THREADS=$threads "$python" - "$file" $threads <<'PY'
import sys, time, os, json
import numpy as np, pandas as pd, pyarrow
path, threads = sys.argv[1], int(sys.argv[2])
pyarrow.set_cpu_count(threads); pyarrow.set_io_thread_count(threads)
mb = os.path.getsize(path) / 1e6
for engine in ["c", "pyarrow"]:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        df = pd.read_csv(path, engine=engine)
        X = df.iloc[:, :-1].to_numpy(dtype=np.float32)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"reader": "pandas-" + engine, "threads": threads, "seconds": best, "MBps": mb / best}))
PY
done
