"""The one timing loop the ONNX scripts use for ONNX Runtime: warm-up calls, then at least
`min_runs` timed calls and at least `min_s` seconds; the median in milliseconds."""
import time

import numpy as np


def median_ms(call, warmup=3, min_runs=10, min_s=3.0):
    """call(i) runs the i-th timed call (i = -1 for warm-up). Returns (median ms, runs)."""
    for _ in range(warmup):
        call(-1)
    times, start = [], time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_s:
        t0 = time.perf_counter()
        call(len(times))
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times)), len(times)
