"""Does the plugin's replay (``pytest_gpuslo.replay``) predict how a real GPU queue's p95 moves
with the machine's speed?  The check that stands between the replay-chosen scale of the stored-
baseline interval and a GPU.

    python3 benchmarks/gpu_replay.py [--n 6000] [--pairs 3]

Cases, each on the CUDA backend with Poisson arrivals and one schedule replayed:
- a 200 us %globaltimer spin kernel of one block (streams run side by side on separate SMs, so k
  streams are k servers) at utilisation 0.9 on 1 and 4 streams; "a machine 2% slower" spins 204 us;
- a compute kernel that fills the GPU (FMA loop, 4 blocks per SM), about 100 us alone, at
  utilisation 0.8 on 4 and 16 streams: concurrent kernels share the SMs, so a request's measured
  service time includes its neighbours' (the contending case the simulator cannot show); "2% slower"
  is 2% more iterations.
Runs at the two speeds alternate (``--pairs`` each).  Every base run is replayed with
``replay.completions`` at f = 1.02 (predicted change of the run statistic T, p95) and at f = 1 (which
must give T back), and ``replay.scale`` gives its lambda; the table prints the measured change beside
the prediction, the fit, and the median lambda and what ``gate.interval_scale`` would use.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import cupy as cp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pytest_gpuslo import arrivals, gate, replay, stats  # noqa: E402
from pytest_gpuslo.backends import cuda  # noqa: E402
from pytest_gpuslo.measurement import run_open_loop  # noqa: E402
from pytest_gpuslo.testing import spin_kernel  # noqa: E402

SPIN = spin_kernel()
BURN = cp.RawKernel(r"""
extern "C" __global__ void burn(float *out, long long iters) {
    float a = threadIdx.x * 1e-3f;
    for (long long i = 0; i < iters; i++) a = a * 0.9999999f + 1e-7f;
    if (a == -1.0f) out[0] = a;
}""", "burn")
SINK = cp.zeros(1, dtype=cp.float32)


def _burn_grid() -> int:
    return 4 * int(cp.cuda.runtime.getDeviceProperties(0)["multiProcessorCount"])


def calibrate_burn(target_us: float = 100.0) -> int:
    """Iterations of ``BURN`` that take about ``target_us`` alone on this GPU."""
    grid = _burn_grid()
    iters = 20_000
    for _ in range(3):
        BURN((grid,), (256,), (SINK, cp.int64(iters)))
        a, b = cp.cuda.Event(), cp.cuda.Event()
        a.record()
        for _ in range(20):
            BURN((grid,), (256,), (SINK, cp.int64(iters)))
        b.record()
        b.synchronize()
        per = cp.cuda.get_elapsed_time(a, b) * 1e3 / 20
        iters = max(1000, int(iters * target_us / per))
    return iters


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=6000)
    ap.add_argument("--pairs", type=int, default=3)
    a = ap.parse_args()
    print(f"device: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}", flush=True)
    iters = calibrate_burn()
    grid = _burn_grid()
    cases = [("spin 200 us, 1 block", 1, 0.9, 200e-6, lambda slow: (lambda r: SPIN((1,), (1,), (cp.int64(200_000 * slow),)))),
             ("spin 200 us, 1 block", 4, 0.9, 200e-6 / 4, lambda slow: (lambda r: SPIN((1,), (1,), (cp.int64(200_000 * slow),)))),
             ("compute, fills the GPU", 4, 0.8, 100e-6, lambda slow: (lambda r: BURN((grid,), (256,), (SINK, cp.int64(round(iters * slow)))))),
             ("compute, fills the GPU", 16, 0.8, 100e-6, lambda slow: (lambda r: BURN((grid,), (256,), (SINK, cp.int64(round(iters * slow))))))]
    print(f"compute kernel: {grid} blocks x 256 threads, {iters} iterations (about 100 us alone)")
    print("| body | streams | utilisation | T at base speed (mean) | measured change at 2% slower | replay's predicted change "
          "(f = 1.02) | replay at f = 1 vs measured (max abs T) | lambda per run | scale the gate uses |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, lanes, rho, per_req_s, make in cases:
        rate = rho / per_req_s
        sched = arrivals.Poisson(rate).schedule(n=a.n, rng=arrivals.make_rngs(77)["arrivals"])
        warm = a.n // 10
        t0, t1, pred, fit, lams = [], [], [], [], []
        for _ in range(a.pairs):
            for slow in (1.0, 1.02):
                backend = cuda.Backend(telemetry=False)
                d, _ = run_open_loop(sched, backend, make(slow), lanes=lanes, timeout_s=30)
                lat = (d.end_ns - d.scheduled_ns)[warm:].astype(float) / 1e6
                t = stats.run_statistic(lat, 0.95)
                if slow > 1.0:
                    t1.append(t)
                    continue
                t0.append(t)
                args = [x.astype(float) for x in (d.dispatch_ns, d.start_ns, d.end_ns)]
                tr = {f: stats.run_statistic((replay.completions(*args, d.lane, f) - d.scheduled_ns)[warm:] / 1e6, 0.95)
                      for f in (1.0, 1.02)}
                pred.append(tr[1.02] - tr[1.0])
                fit.append(abs(tr[1.0] - t))
                lam = replay.scale(d.scheduled_ns, d.dispatch_ns, d.start_ns, d.end_ns, d.lane, 0.95, warmup=warm)
                lams.append(math.nan if lam is None else lam)
        used, _ = gate.interval_scale([{"p95": x} for x in lams if math.isfinite(x)], 0.95)
        print(f"| {label} | {lanes} | {rho} | {np.mean(t0):.4f} (sd {np.std(t0, ddof=1):.4f}) | "
              f"{np.mean(t1) - np.mean(t0):+.4f} | {np.mean(pred):+.4f} | {max(fit):.4f} | "
              f"{', '.join(f'{x:+.2f}' for x in lams)} | {used:+.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
