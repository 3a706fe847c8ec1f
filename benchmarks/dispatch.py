"""Measure the two GIL effects on the CPU backend and print a table (docs/validation.md#cpu-dispatch).

1. Dispatcher strategy vs lanes: sleep-only (what the CPU backend does) against sleep+spin for the
   last 200 us, with a pure-Python body (holds the GIL) and a sleeping body (releases it).
2. The switch interval: the lateness a GIL-holding body causes the dispatcher at 5 ms (Python's
   default) against 0.5 ms (what the dispatcher sets during a run).

Usage: python benchmarks/dispatch.py [--requests N]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from pytest_gpuslo import arrivals, measurement
from pytest_gpuslo.backends.cpu import Backend as CpuBackend


class SpinningCpu(CpuBackend):
    spin_ns = 200_000


def python_work(us: float) -> None:
    end = time.perf_counter_ns() + int(us * 1000)
    x = 0
    while time.perf_counter_ns() < end:
        x += 1


def run(backend: CpuBackend, body, rate: float, n: int, lanes: int, switch: float) -> dict[str, float]:
    old = measurement.DISPATCH_SWITCH_INTERVAL_S
    measurement.DISPATCH_SWITCH_INTERVAL_S = switch
    import sys

    saved = sys.getswitchinterval()
    sys.setswitchinterval(switch)
    try:
        sched = arrivals.Poisson(rate).schedule(n=n, rng=arrivals.make_rngs(1)["arrivals"])
        data, _ = measurement.run_open_loop(sched, backend, body, lanes=lanes, timeout_s=30)
    finally:
        measurement.DISPATCH_SWITCH_INTERVAL_S = old
        sys.setswitchinterval(saved)
    lag = (data.dispatch_ns - data.scheduled_ns) / 1e3
    lat = (data.end_ns - data.scheduled_ns) / 1e3
    return {"lag_p50": np.quantile(lag, .5), "lag_p99": np.quantile(lag, .99), "lag_max": lag.max(),
            "lat_p50": np.quantile(lat, .5), "lat_p99": np.quantile(lat, .99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000)
    a = ap.parse_args()
    n = a.requests
    rows = []
    cases = [
        ("sleep-only dispatcher", CpuBackend, "sleep 200us", lambda r: time.sleep(0.0002), 0.0005),
        ("sleep+spin dispatcher", SpinningCpu, "sleep 200us", lambda r: time.sleep(0.0002), 0.0005),
        ("sleep-only dispatcher", CpuBackend, "python 200us", lambda r: python_work(200), 0.0005),
        ("sleep+spin dispatcher", SpinningCpu, "python 200us", lambda r: python_work(200), 0.0005),
        ("switch interval 5 ms", CpuBackend, "python 200us", lambda r: python_work(200), 0.005),
        ("switch interval 0.5 ms", CpuBackend, "python 200us", lambda r: python_work(200), 0.0005),
    ]
    for label, cls, body_label, body, switch in cases:
        r = run(cls(), body, rate=1000, n=n, lanes=2, switch=switch)
        rows.append((label, body_label, r))
    print(f"CPU backend dispatch, {n} Poisson arrivals at 1000/s, 2 lanes, "
          f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print(f"{'dispatcher':<24}{'body':<14}{'lag p50 us':>11}{'lag p99 us':>11}{'lag max us':>11}"
          f"{'lat p50 us':>11}{'lat p99 us':>11}")
    for label, body_label, r in rows:
        print(f"{label:<24}{body_label:<14}{r['lag_p50']:>11.0f}{r['lag_p99']:>11.0f}{r['lag_max']:>11.0f}"
              f"{r['lat_p50']:>11.0f}{r['lat_p99']:>11.0f}")


if __name__ == "__main__":
    main()
