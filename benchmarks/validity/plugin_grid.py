"""The whole validity grid through the plugin's own gate (what ships, not the candidates).

    nice python -m benchmarks.validity.plugin_grid                 # ~15 min on 2 cores
    python -m benchmarks.validity.plugin_grid --reps 40 --families poi-logn-c4-r.5   # a smoke run

Regression: every family x noise (none / run / day), ``--reps`` replications of the grid's draw
(``grid.regression_rep``'s design: one schedule, 8 stored runs, an A/A and a +10%-service candidate,
3 + 3 interleaved A/B runs), decided by ``current.stored_path`` (R = 1, 3, 8 stored runs; stored
runs from 3 sessions, or from one under per-day noise) and ``current.ab_path``.

Absolute: every family at n = 4,000 and 10,000, budget at the true p95 (a PASS is false), 5% under
it (true p95 5% over: a PASS is false), 5% over it (a FAIL is false) and at the true p97.5 (half
the allowance: PASS power), by ``current.absolute`` (``gate.decide``).

Prints markdown tables with Wilson 95% intervals (the table in docs/statistics.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import current, grid, sim

N = 10_000
P = 0.95
EFFECT = 0.10
#: also decide every replication on the replayed statistic (``--shuffled``).
SHUFFLED = False
BUDGETS = (("at-q", 0.95, 1.0), ("q-5%over", 0.95, 1 / 1.05), ("q-5%under", 0.95, 1.05), ("pass-power", 0.975, 1.0))


def regression_cell(args: tuple[str, str, int, int, bool]) -> tuple[str, str, dict]:
    fam_name, noise, reps, seed, shuffled = args
    global SHUFFLED
    SHUFFLED = shuffled  # worker processes do not see main's setting
    fam = sim.FAMILIES[fam_name]
    rng = np.random.default_rng(seed)
    out: dict = defaultdict(int)
    for _ in range(reps):
        t, lat, shuf = grid.draw_runs(fam, noise, N, rng, shuffled=SHUFFLED)
        stored, cands, bruns = lat[:8], lat[8:10], lat[10:]
        sessions = 1 if noise == "day" else 3
        for eff in (0, 1):
            for r in (1, 3, 8):
                out[(f"stored R={r}", eff, current.stored_path(list(stored[-r:]), cands[eff], t, P,
                                                               sessions=sessions))] += 1
            out[("A/B 3+3", eff, current.ab_path(list(stored[5:8]), list(bruns[3 * eff:3 * eff + 3]), P))] += 1
            if shuf is not None:
                # the same runs, compared on the replayed statistic (replay.shuffled)
                out[("stored R=8 replayed", eff, current.stored_path(
                    list(stored), cands[eff], t, P, sessions=sessions, levels=list(shuf[:8]),
                    level=float(shuf[8 + eff])))] += 1
                out[("A/B 3+3 replayed", eff, current.ab_path(
                    list(stored[5:8]), list(bruns[3 * eff:3 * eff + 3]), P, list(shuf[5:8]),
                    list(shuf[10 + 3 * eff:13 + 3 * eff])))] += 1
    return fam_name, noise, dict(out)


def absolute_cell(args: tuple[str, int, int, int, int]) -> tuple[str, int, dict]:
    fam_name, n, reps, seed, ref_runs = args
    fam = sim.FAMILIES[fam_name]
    q = grid.truth(fam, n, ref_runs, seed + 7, (0.95, 0.975))
    rng = np.random.default_rng(seed)
    out: dict = defaultdict(int)
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        x = sim.simulate(fam, t, rng, np.ones(1), n)[0]
        for label, pp, scale in BUDGETS:
            out[(label, current.absolute(x, q[pp] * scale, P))] += 1
    return fam_name, n, dict(out)


def pct(k: int, n: int) -> str:
    lo, hi = grid.wilson(k, n)
    return f"{100 * k / n:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}]" if n else "-"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--abs-reps", type=int, default=200)
    ap.add_argument("--ref-runs", type=int, default=400)
    ap.add_argument("--families", default="")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--shuffled", action="store_true",
                    help="also decide on the replayed statistic (replay.shuffled): rows '... replayed'")
    ap.add_argument("--no-absolute", action="store_true", help="the regression tables only")
    a = ap.parse_args()
    global SHUFFLED
    SHUFFLED = a.shuffled
    fams = [f for f in (a.families.split(",") if a.families else sim.FAMILIES)]
    t0 = time.time()
    jobs = [(f, noise, a.reps, a.seed + 1000 * i + j) for i, f in enumerate(fams)
            for j, noise in enumerate(("none", "run", "day"))]
    ajobs = [(f, n, a.abs_reps, a.seed + 500_000 + 1000 * i + n // 1000, a.ref_runs) for i, f in enumerate(fams)
             for n in (4000, 10_000)]
    with ProcessPoolExecutor(a.workers) as ex:
        reg = list(ex.map(regression_cell, [(*j, a.shuffled) for j in jobs]))
        absl = [] if a.no_absolute else list(ex.map(absolute_cell, ajobs))
    paths: tuple[str, ...] = ("stored R=1", "stored R=3", "stored R=8", "A/B 3+3")
    if a.shuffled:
        paths += ("stored R=8 replayed", "A/B 3+3 replayed")
    print(f"# Plugin-path validity grid ({a.reps} replications per cell, n = {N}, p95, alpha 1%, +10% service)\n")
    for noise in ("none", "run", "day"):
        print(f"\n## Regression, machine noise: {noise}\n")
        print("| family | " + " | ".join(f"{p}: A/A false REGRESSED / +10% REGRESSED" for p in paths) + " |")
        print("|---|" + "---|" * len(paths))
        worst: dict[str, int] = defaultdict(int)
        for fam, nz, out in reg:
            if nz != noise:
                continue
            cells = []
            for p in paths:
                aa = out.get((p, 0, "REGRESSED"), 0)
                hit = out.get((p, 1, "REGRESSED"), 0)
                worst[p] = max(worst[p], aa)
                cells.append(f"{100 * aa / a.reps:.1f}% / {100 * hit / a.reps:.0f}%")
            print(f"| {fam} | " + " | ".join(cells) + " |")
        print("\nworst A/A false REGRESSED: " + "; ".join(f"{p} {pct(worst[p], a.reps)}" for p in paths))
        for p in paths:
            hits = [out.get((p, 1, "REGRESSED"), 0) / a.reps for fam, nz, out in reg
                    if nz == noise and sim.FAMILIES[fam].bursty]
            if hits:
                print(f"- {p}: +10% caught on the bursty cells, median {100 * float(np.median(hits)):.0f}% "
                      f"(min {100 * min(hits):.0f}%)")
    if a.no_absolute:
        print(f"\ntotal {time.time() - t0:.0f} s")
        return 0
    print(f"\n## Absolute budget ({a.abs_reps} replications per cell; truth from {a.ref_runs} runs)\n")
    print("| family | n | false PASS at true p95 = B | false PASS, true p95 5% over B | false FAIL, true p95 5% under B | PASS at half the allowance |")
    print("|---|---|---|---|---|---|")
    for fam, n, out in absl:
        r = a.abs_reps
        print(f"| {fam} | {n} | {pct(out.get(('at-q', 'PASS'), 0), r)} | {pct(out.get(('q-5%over', 'PASS'), 0), r)} | "
              f"{pct(out.get(('q-5%under', 'FAIL'), 0), r)} | {100 * out.get(('pass-power', 'PASS'), 0) / r:.0f}% |")
    print(f"\ntotal {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
