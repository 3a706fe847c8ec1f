"""Where does the CUDA launcher's schedule lag come from?  Sleep overshoot vs spinning.

Prints time.sleep overshoot on this host, then the lag of a no-op CUDA request stream at 2,000/s
for several spin windows.  Usage: python benchmarks/gpu_dispatch_diag.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402


def main() -> None:
    over = []
    for _ in range(2000):
        t = time.perf_counter_ns()
        time.sleep(0.0003)
        over.append((time.perf_counter_ns() - t) / 1e3 - 300)
    o = np.array(over)
    print(f"time.sleep(300us) overshoot us: p50 {np.median(o):.0f} p99 {np.quantile(o, .99):.0f} "
          f"p99.9 {np.quantile(o, .999):.0f} max {o.max():.0f}")
    for spin_us in (200, 1000, 5000, 10**9):
        for telemetry in (False, True):
            sched = arrivals.Poisson(2000).schedule(n=6000, rng=arrivals.make_rngs(3)["arrivals"])
            data, _ = run_open_loop(sched, cuda.Backend(telemetry=telemetry, spin_ns=spin_us * 1000),
                                    lambda r: None, lanes=8, timeout_s=10)
            lag = (data.dispatch_ns - data.scheduled_ns)[600:] / 1e3
            print(f"spin {'all' if spin_us > 1e6 else spin_us:>5} us, telemetry {telemetry!s:5}: lag us "
                  f"p50 {np.median(lag):.1f} p99 {np.quantile(lag, .99):.1f} p99.9 {np.quantile(lag, .999):.1f} "
                  f"max {lag.max():.0f}", flush=True)


if __name__ == "__main__":
    main()
