"""Does the replayed statistic (``replay.shuffled``) hold on a real GPU queue?  Its premise is that
a request's service time does not depend on where the request sits, so that dealing the run's
service times in random order changes only the luck of where slow ones fell.

    python3 benchmarks/gpu_shuffled.py [--runs 6]

Cases on the CUDA backend, one schedule replayed ``--runs`` times each: the gpu_ab case (one
stream, a 200 us %globaltimer spin kernel, gamma cv = 2 arrivals at 3,000/s, 5,000 requests); the
test_servers case (4 streams, a 400 us spin, Poisson at 9,000/s, 20,000 requests); a compute
kernel that fills the GPU (about 100 us alone) on 4 streams at utilisation 0.8, 8,000 requests.
Per case: each run's statistic T (``stats.run_statistic``, p95) and the replayed T* computed with
the state check off, their spread over the runs, and ``replay.state_dependence`` (Spearman rho of
service against "the lane was busy at dispatch"; T* is used only where |rho| < ``STATE_RHO``) with
the median service of requests that found their lane idle and busy, and what
``replay.not_exchangeable`` says of the runs (streams are bound lanes).
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from gpu_replay import BURN, SINK, _burn_grid, calibrate_burn  # noqa: E402

from pytest_gpuslo import arrivals, replay, stats  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402

SPIN = spin_kernel()


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=6)
    a = ap.parse_args()
    print(f"device: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}", flush=True)
    iters, grid = calibrate_burn(), _burn_grid()
    cases = [("spin 200 us, gamma cv 2, 3000/s", 1, arrivals.Gamma(3000.0, cv=2.0), 5000,
              lambda r: SPIN((1,), (1,), (cp.int64(200_000),))),
             ("spin 400 us, Poisson 9000/s", 4, arrivals.Poisson(9000.0), 20000,
              lambda r: SPIN((1,), (1,), (cp.int64(400_000),))),
             ("compute fills the GPU, 0.8", 4, arrivals.Poisson(8000.0), 8000,
              lambda r: BURN((grid,), (256,), (SINK, cp.int64(iters))))]
    print("| case | streams | T per run | T* per run | sd T | sd T* | state rho per run | median service idle / busy (us) "
          "| replay.not_exchangeable |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, lanes, proc, n, body in cases:
        sched = proc.schedule(n=n, rng=arrivals.make_rngs(77)["arrivals"])
        warm = n // 20
        ts, tss, rhos, meds, why = [], [], [], [], []
        for _ in range(a.runs):
            d, _ = run_open_loop(sched, cuda.Backend(telemetry=False), body, lanes=lanes, timeout_s=30)
            lat = (d.end_ns - d.scheduled_ns)[warm:].astype(float) / 1e6
            ts.append(stats.run_statistic(lat, 0.95))
            f = [x.astype(float) for x in (d.dispatch_ns, d.start_ns, d.end_ns)]
            rhos.append(replay.state_dependence(*f, d.lane, warm))
            why.append(replay.not_exchangeable(*f, d.lane, warm, bound=True).split(" (")[0] or "kept")
            keep, replay.STATE_RHO = replay.STATE_RHO, math.inf
            try:
                got = replay.shuffled(d.scheduled_ns, d.dispatch_ns, d.start_ns, d.end_ns, d.lane, [0.95], warmup=warm)
            finally:
                replay.STATE_RHO = keep
            tss.append(got[0.95] if got else math.nan)
            svc = (d.end_ns - d.start_ns)[warm:] / 1e3
            b = replay.busy_at_dispatch(d.dispatch_ns, d.end_ns, d.lane)[warm:]
            meds.append(f"{np.median(svc[~b]):.1f}/{np.median(svc[b]):.1f}" if b.any() and (~b).any() else "-")
        print(f"| {label} | {lanes} | {' '.join(f'{x:.4f}' for x in ts)} | {' '.join(f'{x:.4f}' for x in tss)} | "
              f"{np.std(ts, ddof=1):.4f} | {np.nanstd(tss, ddof=1):.4f} | {' '.join(f'{x:+.3f}' for x in rhos)} | "
              f"{' '.join(meds)} | {'; '.join(sorted(set(why)))} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
