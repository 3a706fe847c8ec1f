"""How steady is the machine control on this host?  (docs/statistics.md, "Machine control")

The gate holds back a stored-baseline REGRESSED when this run's control lies outside the stored
runs' controls, so the control's own run-to-run noise sets how small a machine shift it can see.
This takes ``--readings`` control readings the way the runner takes them (one before and one after
a run, combined), with the GPU idle between them or kept busy by a spin kernel, and prints each
key's median and log spread.

    python3 benchmarks/gpu_control.py [--readings 20] [--backend cuda]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pytest_gpuslo import backends, control  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readings", type=int, default=20)
    ap.add_argument("--backend", default="cuda")
    ap.add_argument("--gap-s", type=float, default=1.0)
    a = ap.parse_args()
    be = backends.load(a.backend)
    busy = None
    if a.backend == "cuda":
        import cupy as cp

        from pytest_gpuslo.testing import spin_kernel

        k = spin_kernel()

        def busy() -> None:  # a "run" between the readings: 1 s of 200 us kernels
            for _ in range(5000):
                k((1,), (1,), (cp.int64(200_000),))
            cp.cuda.Device().synchronize()
    rows = []
    for mode in ("idle between", "busy between"):
        if mode == "busy between" and busy is None:
            continue
        values: dict[str, list[float]] = {}
        for _ in range(a.readings):
            before = be.control()
            if mode == "busy between":
                busy()  # type: ignore[misc]
            else:
                time.sleep(a.gap_s)
            for key, v in control.combine(before, be.control()).items():
                values.setdefault(key, []).append(v)
        for key, v in values.items():
            logs = [math.log(x) for x in v]
            rows.append((mode, key, statistics.median(v), statistics.stdev(logs),
                         max(abs(x - statistics.fmean(logs)) for x in logs)))
    print(f"| between readings | control | median ms | sd of log ({a.readings} readings) | largest deviation |")
    print("|---|---|---|---|---|")
    for mode, key, med, sd, dev in rows:
        print(f"| {mode} | {key} | {med:.4f} | {100 * sd:.2f}% | {100 * dev:.2f}% |")


if __name__ == "__main__":
    main()
