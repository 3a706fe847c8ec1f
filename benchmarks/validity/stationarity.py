"""The stationarity check (first half against second half of a run) on the grid's queues.

``stats.stationarity`` says whether a run's p-quantile moved between its halves: a drifted run's
PASS is not trusted and it is not saved as a baseline, unless ``gate.schedule_drift`` finds the
drift the schedule's, which asks the same check of the requests' service times.  review62 found
i.i.d. bimodal services (95% 1 ms, 5% 20 ms) read "drifted" at p95 in half of runs of 10,000:
the pooled quantile of each half sits in the gap and jumps between the modes, while the variance
was the batches' spread.  This prints how often stationary runs are flagged, and how often a real
step in the second half is: before, the halves' pooled quantiles; shipped, the share of each
half's requests over the whole run's quantile (``stats.halves_exceedance_p``), at alpha 0.001.

    python -m benchmarks.validity.stationarity [--reps 400]
"""
from __future__ import annotations

import argparse

import numpy as np

from pytest_gpuslo import stats

from . import sim
from .grid import wilson

ALPHA = 0.001  # gate.Policy.stationarity_alpha


def flagged(x: np.ndarray, p: float, shipped: bool) -> bool:
    """stats.stationarity (shipped), or the rule before: the pooled quantiles' log ratio over the
    batches' spread (``stats.regression_test``, unpaired)."""
    if shipped:
        return stats.stationarity(x, p, alpha=ALPHA)[0]
    half = x.size // 2
    r = stats.regression_test(x[:half], x[half:2 * half], p, alpha=ALPHA, delta=0.0, Delta=0.0)
    if np.isnan(r.se):
        return stats.trend(x, p, alpha=ALPHA)[0]
    return 2.0 * min(r.p_regress, r.p_improve) <= ALPHA


def cell(fam: sim.Family, n: int, reps: int, seed: int, step: float, what: str) -> tuple[int, int]:
    """(flagged before, flagged shipped) in ``reps`` runs; ``step`` scales the second half's
    services; ``what`` is "latency" or "service" (what ``schedule_drift`` tests)."""
    rng = np.random.default_rng(seed)
    before = shipped = 0
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        s = fam.services(rng, 1, t.size)
        s[:, t.size - n // 2:] *= step
        x = (sim.fifo(t, s, fam.c) if what == "latency" else s)[0, t.size - n:]
        before += flagged(x, 0.95, False)
        shipped += flagged(x, 0.95, True)
    return before, shipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    args = ap.parse_args()
    knife = sim.F("iid-bimodal", "poisson", "bimodal", 4, 0.1)
    rows = [(f, 10_000, 1.0, "latency") for f in sim.FAMILIES.values()]
    rows += [(knife, n, 1.0, "service") for n in (2_000, 10_000, 50_000)]
    rows += [(sim.FAMILIES[name], 10_000, 1.0, "service") for name in ("onoff-bimodal-c1-r.8", "poi-logn-c4-r.8")]
    rows += [(sim.FAMILIES[name], n, step, what) for name in ("poi-logn-c4-r.8", "poi-bimodal-c1-r.9")
             for n in (2_000, 10_000) for step in (1.1, 1.25) for what in ("service", "latency")]
    rows += [(sim.F("gapped-r.5", "poisson", "bimodal", 1, 0.5), 10_000, step, "latency") for step in (1.0, 1.25, 1.5)]
    print(f"| family | n | second half's service | of | flagged before | flagged shipped |  ({args.reps} runs, alpha {ALPHA})")
    print("|---|---|---|---|---|---|")
    for i, (fam, n, step, what) in enumerate(rows):
        b, s = cell(fam, n, args.reps, 1000 + i, step, what)
        lo, hi = wilson(s, args.reps)
        print(f"| {fam.name} | {n} | x{step:g} | {what} | {b / args.reps:.1%} | {s / args.reps:.1%} "
              f"[{lo:.1%}, {hi:.1%}] |", flush=True)


if __name__ == "__main__":
    main()
