#!/usr/bin/env python3
"""CSV loading peers: file -> float32 feature matrix with pandas' C and pyarrow engines (best of 2).
Same logic as Tests/NNDataTests/bench/csv_bench.sh; JSON lines like the other peers' scripts.

Usage: BENCH_THREADS=1 csv_peers.py FILE.csv
"""
import json
import os
import sys
import time

threads = int(os.environ.get("BENCH_THREADS", "1"))
os.environ["OMP_NUM_THREADS"] = str(threads)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402

pyarrow.set_cpu_count(threads)
pyarrow.set_io_thread_count(threads)
path = sys.argv[1]
megabytes = os.path.getsize(path) / 1e6
for engine in ["c", "pyarrow"]:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        df = pd.read_csv(path, engine=engine)
        X = df.iloc[:, :-1].to_numpy(dtype=np.float32)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"workload": "csv", "peer": "pandas-" + engine, "threads": threads,
                      "seconds": round(best, 4), "MBps": round(megabytes / best, 1)}), flush=True)
