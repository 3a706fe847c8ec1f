"""Why does the launcher stall above half the bare loop's rate?  One rate, several variants.

Usage: python benchmarks/gpu_capacity_diag.py [--frac 0.7]  (run in a fresh process per
CUDA_DEVICE_MAX_CONNECTIONS setting: the variable is read when CUDA starts)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402

SCALE = cp.RawKernel(r"""
extern "C" __global__ void scale(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}""", "scale")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frac", type=float, default=0.7)
    a = ap.parse_args()
    n_floats = 16384
    print(f"CUDA_DEVICE_MAX_CONNECTIONS={os.environ.get('CUDA_DEVICE_MAX_CONNECTIONS', 'default')}")
    for lanes in (64, 8):
        streams = cuda.streams(lanes)
        slots = []
        for _ in range(lanes):
            hi, ho = cp.cuda.alloc_pinned_memory(n_floats * 4), cp.cuda.alloc_pinned_memory(n_floats * 4)
            slots.append((cp.zeros(n_floats, cp.float32), cp.zeros(n_floats, cp.float32),
                          np.frombuffer(hi, np.float32, n_floats), np.frombuffer(ho, np.float32, n_floats), hi, ho))
        grid, block = ((n_floats + 255) // 256,), (256,)

        def work(i: int, stream: object, copies: bool = True) -> None:
            d_in, d_out, h_in, h_out, _, _ = slots[i % lanes]  # noqa: B023 - used in this iteration only
            if copies:
                d_in.set(h_in, stream=stream)
            SCALE(grid, block, (d_in, d_out, np.int32(n_floats)), stream=stream)  # noqa: B023
            if copies:
                d_out.get(out=h_out, stream=stream, blocking=False)

        for i in range(500):
            work(i, streams[i % lanes])
        cp.cuda.Device().synchronize()
        t0 = time.perf_counter()
        for i in range(20000):
            work(i, streams[i % lanes])
        cp.cuda.Device().synchronize()
        bare = 20000 / (time.perf_counter() - t0)
        for label, body in (("copies+kernel", lambda r: work(r.index, None)),
                            ("kernel only", lambda r: work(r.index, None, copies=False)),
                            ("empty body", lambda r: None)):
            rate = a.frac * bare
            n = int(rate * 1.5)
            sched = arrivals.Constant(rate).schedule(n=n)
            data, _ = run_open_loop(sched, cuda.Backend(telemetry=False), body, lanes=lanes, timeout_s=30)
            lag = (data.dispatch_ns - data.scheduled_ns)[n // 10:] / 1e3
            big = np.flatnonzero(lag > 1000)
            print(f"lanes={lanes:<3} {label:<14} rate {rate:7.0f}/s ({a.frac:.2f} x bare {bare:.0f}/s): lag p50 "
                  f"{np.median(lag):7.1f} p99 {np.quantile(lag, .99):9.1f} max {lag.max():9.1f} us; "
                  f">1ms: {big.size} requests, first at {big[0] if big.size else '-'}", flush=True)


if __name__ == "__main__":
    main()
