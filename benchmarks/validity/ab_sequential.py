"""``gpuslo ab --max-runs``: more interleaved runs only while a claim is undecided, on the grid.

    nice python -m benchmarks.validity.ab_sequential [--reps 400] [--seed 20261203]

Every grid family (README) under no machine noise and the per-run factor exp(N(0, 0.02)); each
replication draws 8 base runs, 8 unchanged candidate runs (A/A) and 8 candidate runs with +10%
service, on one replayed schedule.  Fixed: 3+3 runs at alpha (today's default).  Sequential: the
plugin's own ``gate.ab_looks(3, 8)`` (looks after 3, 6 and 8 runs a side at alpha/3 each) and
``gate.ab_wants_more`` (go on while a claim is undecided and not futile), every look decided by
``gate.compare`` as ``gpuslo ab`` decides it.  Prints A/A false REGRESSED (Wilson 95%), +10%
caught, and the mean runs a side each mode spent.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, grid, plugin_grid, sim
from pytest_gpuslo import gate

N = 10_000
RUNS, MAX_RUNS = 3, 8
BURSTY = ("onoff", "gamma", "batch")


def _decide(a: list[np.ndarray], b: list[np.ndarray], policy: gate.Policy) -> gate.BaselineCheck:
    ab = gate.ABInput(tuple(a), tuple(b))
    y = b[-1]
    m = gate.Measurements(y, np.zeros(y.size), load_dependent=False)
    return gate.compare(current.spec(0.95), m, ab, policy)[0]


def sequential(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[str, int]:
    looks, policy = gate.ab_looks(RUNS, MAX_RUNS, current.POLICY)
    for k in looks:
        c = _decide(a[:k], b[:k], policy)
        if k == looks[-1] or not gate.ab_wants_more([c], MAX_RUNS):
            return c.outcome, k
    raise AssertionError("unreachable")


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, dict[str, float]]:
    name, noise, reps, seed = args
    fam = sim.FAMILIES[name]
    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    total = sim.total(N)

    def add(key: str, v: float = 1.0) -> None:
        out[key] = out.get(key, 0.0) + v

    for _ in range(reps):
        t_full = fam.schedule(rng, total)
        fac = np.exp(rng.normal(0.0, grid.RUN_SD, 3 * MAX_RUNS)) if noise == "run" else np.ones(3 * MAX_RUNS)
        fac[2 * MAX_RUNS:] *= 1.0 + grid.EFFECT
        lat = sim.fifo(t_full, fam.services(rng, 3 * MAX_RUNS, total) * fac[:, None], fam.c)[:, -N:]
        base, same, slower = list(lat[:MAX_RUNS]), list(lat[MAX_RUNS:2 * MAX_RUNS]), list(lat[2 * MAX_RUNS:])
        for eff, cand in (("aa", same), ("slow", slower)):
            fixed = _decide(base[:RUNS], cand[:RUNS], current.POLICY).outcome
            add(f"fixed {eff} {fixed}")
            seq, used = sequential(base, cand)
            add(f"seq {eff} {seq}")
            add(f"seq {eff} runs", used)
    return name, noise, out


def wilson(k: float, n: int) -> str:
    """k of n in percent with its Wilson 95% interval (``plugin_grid.pct``)."""
    return plugin_grid.pct(int(k), n)


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=20261203)
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(f, noise, a.reps, a.seed + 1000 * i + j) for i, f in enumerate(sim.FAMILIES)
            for j, noise in enumerate(("none", "run"))]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(cell, jobs))
    print(f"# gpuslo ab, fixed 3+3 against --max-runs {MAX_RUNS} (looks {gate.ab_looks(RUNS, MAX_RUNS, current.POLICY)[0]}), "
          f"n = {N:,}, p95, alpha 1%, +{grid.EFFECT:.0%} service, {a.reps} replications, seed {a.seed}, "
          f"{time.time() - t0:.0f} s\n")
    print("| family | machine noise | A/A false REGRESSED: fixed | sequential | +10% caught: fixed | sequential "
          "| runs a side, sequential: A/A / +10% |")
    print("|---|---|---|---|---|---|---|")
    summary: dict[str, list[float]] = {}
    for name, noise, out in res:
        n = a.reps
        row = [wilson(out.get("fixed aa REGRESSED", 0), n), wilson(out.get("seq aa REGRESSED", 0), n),
               f"{100 * out.get('fixed slow REGRESSED', 0) / n:.0f}%", f"{100 * out.get('seq slow REGRESSED', 0) / n:.0f}%",
               f"{out.get('seq aa runs', 0) / n:.1f} / {out.get('seq slow runs', 0) / n:.1f}"]
        print(f"| {name} | {noise} | " + " | ".join(row) + " |")
        if name.startswith(BURSTY):
            summary.setdefault(f"{noise} fixed", []).append(out.get("fixed slow REGRESSED", 0) / n)
            summary.setdefault(f"{noise} seq", []).append(out.get("seq slow REGRESSED", 0) / n)
    print("\nBursty cells (on-off, gamma, batch arrivals), +10% caught, median (min):")
    for key, v in summary.items():
        print(f"- {key}: {100 * float(np.median(v)):.0f}% ({100 * min(v):.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
