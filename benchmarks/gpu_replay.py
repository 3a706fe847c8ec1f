"""Does a replay of measured service times predict how a real GPU queue's p95 moves with the
machine's speed?  The check that stands between the replay-chosen scale (benchmarks/validity/
replay_scale.py, research) and the plugin.

    python3 benchmarks/gpu_replay.py [--n 6000] [--pairs 3]

A 200 us %globaltimer spin kernel (one block: streams run side by side on separate SMs, so k streams
are k servers) on the CUDA backend, Poisson arrivals at utilisation 0.9, one schedule replayed.  A
"machine 2% slower" is the same kernel spinning 204 us.  Runs at 200 and 204 us alternate (``--pairs``
each).  From every 200 us run, the measured service times (end - start events) are replayed through
its lanes (FIFO, request i on lane i mod k): completion = max(arrival, previous completion on the
lane) + f x service, with arrival = dispatch + the launch delay measured on an idle stream (which a
machine factor does not scale), so f = 1 gives back the measured latencies.  The table compares the
run statistic T (stats.run_statistic, p95) measured at 204 us with the replay's prediction at f =
1.02, and prints the replay's curvature lambda = -T''/T'^2 (h = 0.02).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals, stats  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402

SPIN = spin_kernel()


def replay(data, lanes: int, f: float, warm: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Latencies (ns) of the run replayed with every service time scaled by f."""
    sched, disp = data.scheduled_ns.astype(float), data.dispatch_ns.astype(float)
    start, end = data.start_ns.astype(float), data.end_ns.astype(float)
    svc = end - start
    last_meas = np.full(lanes, -np.inf)
    last = np.full(lanes, -np.inf)
    out = np.empty(sched.size)
    for i in range(sched.size):
        k = i % lanes
        launch = max(0.0, start[i] - max(disp[i], last_meas[k]))  # 0 when queued behind the previous
        arrive = disp[i] + launch
        c = max(arrive, last[k]) + f * svc[i]
        out[i] = c - sched[i]
        last[k], last_meas[k] = c, end[i]
    return out[warm:]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--pairs", type=int, default=3)
    a = ap.parse_args()
    print(f"device: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}", flush=True)
    print("| lanes | utilisation | T measured, 200 us (mean of runs) | T measured, 204 us | measured change | "
          "replay's predicted change (f = 1.02) | replay at f = 1 vs measured (max abs T) | replay lambda (median) |")
    print("|---|---|---|---|---|---|---|---|")
    for lanes in (1, 4):
        rate = 0.9 * lanes / 200e-6
        sched = arrivals.Poisson(rate).schedule(n=a.n, rng=arrivals.make_rngs(77)["arrivals"])
        warm = a.n // 10
        t0, t1, pred, fit, lams = [], [], [], [], []
        for _ in range(a.pairs):
            for us in (200, 204):
                backend = cuda.Backend(telemetry=False)
                ns = us * 1000
                data, _ = run_open_loop(sched, backend, lambda r, ns=ns: SPIN((1,), (1,), (cp.int64(ns),)),
                                        lanes=lanes, timeout_s=30)
                lat = (data.end_ns - data.scheduled_ns)[warm:].astype(float) / 1e6
                t = stats.run_statistic(lat, 0.95)
                if us == 204:
                    t1.append(t)
                    continue
                t0.append(t)
                tr = {f: stats.run_statistic(replay(data, lanes, f, warm) / 1e6, 0.95)
                      for f in (math.exp(-0.02), 1.0, math.exp(0.02), 1.02)}
                pred.append(tr[1.02] - tr[1.0])
                fit.append(abs(tr[1.0] - t))
                d1 = (tr[math.exp(0.02)] - tr[math.exp(-0.02)]) / 0.04
                d2 = (tr[math.exp(0.02)] - 2 * tr[1.0] + tr[math.exp(-0.02)]) / 0.02 ** 2
                lams.append(-d2 / d1 ** 2 if d1 > 1e-9 else float("nan"))
        print(f"| {lanes} | 0.9 | {np.mean(t0):.4f} (sd {np.std(t0, ddof=1):.4f}) | {np.mean(t1):.4f} (sd "
              f"{np.std(t1, ddof=1):.4f}) | {np.mean(t1) - np.mean(t0):+.4f} | {np.mean(pred):+.4f} | "
              f"{max(fit):.4f} | {np.median(lams):+.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
