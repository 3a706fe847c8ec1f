"""Where does the harness's service time of an isolated request differ from an event pair's?

Check 2 of ``gpu_validation.py`` reads the harness's end - start of a 200 us spin kernel at 200/s
against ``cupyx.profiler.benchmark`` and against the same event pair at the same spacing; on some
H200 hosts it reads 7-18% over both, on others within 2%.  This runs the variants side by side,
interleaved, several rounds, so one host's state is shared by all of them:

- ``harness``: ``run_open_loop`` on the CUDA backend, one lane, 200/s (check 2 as it is);
- ``pair, sync``: e0, kernel, e1 on a non-blocking stream, waiting for e1 each time (check 2's
  reference);
- ``pair, thread``: the same from a worker thread (the harness dispatches from one);
- ``pair, no wait``: e0, kernel, e1 and no wait (the harness never waits), read after the loop;
- ``pair, raw``: as ``no wait`` with raw runtime calls and pre-created events, as the harness does;
- ``cupyx``: back to back.

Prints the median and p10 / p90 of each (us), per round.

    python3 benchmarks/gpu_timing_diag.py [--rounds 4] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable

import cupy as cp
import cupyx.profiler
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402

SPIN = spin_kernel()
GAP_S = 0.005


def harness(n: int, cycles: int) -> np.ndarray:
    data, _ = run_open_loop(arrivals.Constant(1 / GAP_S).schedule(n=n), cuda.Backend(telemetry=False),
                            lambda r: SPIN((1,), (1,), (cp.int64(cycles),)), lanes=1, timeout_s=30)
    return (data.end_ns - data.start_ns)[20:] / 1e3


def pair(n: int, cycles: int, wait: bool, raw: bool) -> np.ndarray:
    s = cp.cuda.Stream(non_blocking=True)
    rt = cp.cuda.runtime
    if raw:
        evs = [(rt.eventCreate(), rt.eventCreate()) for _ in range(n)]
    else:
        evs = [(cp.cuda.Event(), cp.cuda.Event()) for _ in range(n)]
    t_next = time.perf_counter()
    with s:
        for i in range(n):
            t_next += GAP_S
            while time.perf_counter() < t_next:
                pass
            e0, e1 = evs[i]
            if raw:
                rt.eventRecord(e0, s.ptr)
                SPIN((1,), (1,), (cp.int64(cycles),))
                rt.eventRecord(e1, s.ptr)
            else:
                e0.record(s)
                SPIN((1,), (1,), (cp.int64(cycles),))
                e1.record(s)
                if wait:
                    e1.synchronize()
    s.synchronize()
    if raw:
        out = [rt.eventElapsedTime(a, b) * 1e3 for a, b in evs]
        for a, b in evs:
            rt.eventDestroy(a)
            rt.eventDestroy(b)
    else:
        out = [cp.cuda.get_elapsed_time(a, b) * 1e3 for a, b in evs]
    return np.array(out[20:])


def in_thread(fn: Callable[[], np.ndarray]) -> np.ndarray:
    box: list[np.ndarray] = []

    def run() -> None:
        cp.cuda.Device().use()
        box.append(fn())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return box[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--requests", type=int, default=300)
    a = ap.parse_args()
    cycles = 200_000
    n = a.requests
    variants: dict[str, Callable[[], np.ndarray]] = {
        "harness": lambda: harness(n, cycles),
        "pair, sync": lambda: pair(n, cycles, wait=True, raw=False),
        "pair, thread": lambda: in_thread(lambda: pair(n, cycles, wait=True, raw=False)),
        "pair, no wait": lambda: pair(n, cycles, wait=False, raw=False),
        "pair, raw": lambda: pair(n, cycles, wait=False, raw=True),
        "harness, again": lambda: harness(n, cycles),
    }
    for _ in range(3):
        SPIN((1,), (1,), (cp.int64(cycles),))
    cp.cuda.Device().synchronize()
    print("| round | " + " | ".join(variants) + " | cupyx |")
    print("|---" * (len(variants) + 2) + "|")
    for r in range(a.rounds):
        cells = []
        for fn in variants.values():
            x = fn()
            cells.append(f"{np.median(x):.1f} ({np.quantile(x, 0.1):.0f}-{np.quantile(x, 0.9):.0f})")
        s = cp.cuda.Stream(non_blocking=True)
        with s:
            perf = cupyx.profiler.benchmark(lambda: SPIN((1,), (1,), (cp.int64(cycles),)), n_repeat=300,
                                            n_warmup=20)
        g = perf.gpu_times.ravel() * 1e6
        cells.append(f"{np.median(g):.1f} ({np.quantile(g, 0.1):.0f}-{np.quantile(g, 0.9):.0f})")
        print(f"| {r + 1} | " + " | ".join(cells) + " |", flush=True)
    print("median us (p10-p90); the spin kernel waits 200 us on the global timer")


if __name__ == "__main__":
    main()
