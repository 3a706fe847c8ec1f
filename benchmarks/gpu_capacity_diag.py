"""Why does the launcher stall above half the bare loop's rate?  One rate, several variants.

Usage: python benchmarks/gpu_capacity_diag.py [--frac 0.7]  (run in a fresh process per
CUDA_DEVICE_MAX_CONNECTIONS setting: the variable is read when CUDA starts)
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from copyload import CopyWork  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frac", type=float, default=0.7)
    a = ap.parse_args()
    print(f"CUDA_DEVICE_MAX_CONNECTIONS={os.environ.get('CUDA_DEVICE_MAX_CONNECTIONS', 'default')}")
    for lanes in (64, 8):
        work = CopyWork(lanes=lanes)
        bare = work.closed_loop(20000, warm=500)[0]
        for label, body in (("copies+kernel", lambda r: work(r.index)),  # noqa: B023 - this iteration's
                            ("kernel only", lambda r: work(r.index, copies=False)),  # noqa: B023
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
