"""How far under the budget a run with few effective exceedances must be to PASS on its blocks.

    python -m benchmarks.validity.clear_margin [--reps 400] [--seed 11] [--jobs 2]

``stats.budget_test`` passes a run whose design effect leaves too few effective exceedances for
the binomial when each of its 8 blocks has its p95 under B/m and sectioning agrees
(``stats.clear_pass``).  m is 2 for a run holding ``CLEAR_PASS_MIN_EFF`` (10) effective exceedances
of its own quantile or more, 10 below: a step, so a run just under 10 needs every block 10x under
(review123 F9: a p95 10.6x under its budget, 9.2 effective exceedances, PASSed in one run and read
"needs ~14,000 requests" in the next).  This measures the margin a run needs as a function of its
effective exceedances e = n (1 - p) / D, where a false PASS lives: the budget at each family's true
p95 (as ``plugin_grid``: pooled over 400 runs of the same length, ``grid.truth``).  For every run that reaches the route (too few effective samples
for the binomial, 8 blocks and sectioning's batches), it records e and m* = B / (the largest
block p95), sectioning's verdict, and prints, per bin of e, how many runs a margin m would have
passed.  A margin rule m(e) holds where that count is 0 for m >= m(e) in every bin.
"""

from __future__ import annotations

import math
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, grid, sim
from pytest_gpuslo import stats

P, ALPHA = 0.95, 0.01
SIZES = (4000, 6000, 10_000, 20_000)
#: Bins of e (effective exceedances of the run's own quantile) and the margins tried.
BINS = ((0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0), (4.0, 5.0), (5.0, 6.0), (6.0, 8.0), (8.0, 10.0),
        (10.0, 15.0), (15.0, 20.0))
MARGINS = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0)


def route(x: np.ndarray, budget: float) -> tuple[float, float] | None:
    """(e, m*) for a run that reaches the far-under-budget route of ``stats.budget_test``, else
    None: too many effective exceedances (the binomial decides), too few requests, or sectioning
    disagrees."""
    n, star = x.size, 1.0 - P
    d = stats.budget_design_effect(x, budget, P)
    if not n * star / (d * stats.GAMMA_PASS) < stats.E_MIN:
        return None
    kk = stats.n_batches(n, P)
    blocks = stats.sign_test_blocks(ALPHA) + 1
    m = n // blocks
    if not kk or m < 20.0 / star:
        return None
    b = stats.batch_log_quantiles(x, P, kk)
    sd = float(b.std(ddof=1))
    diff = math.log(stats.quantile(x, P)) - math.log(budget)
    from scipy import stats as _st
    p_sect = float(_st.t.cdf(diff / (sd / math.sqrt(kk)), kk - 1)) if sd > 0 else (0.0 if diff < 0 else 1.0)
    if p_sect > ALPHA:
        return None
    worst = float(np.quantile(x[: m * blocks].reshape(blocks, m), P, axis=1).max())
    return n * star / d, budget / worst


def graded(lo_e: float, hi_e: float = 10.0, top: float = 10.0, floor: float = 2.0):
    """m(e): ``top`` up to ``lo_e`` effective exceedances, ``floor`` from ``hi_e``, log-linear between."""
    def m(e: float) -> float:
        if e <= lo_e:
            return top
        if e >= hi_e:
            return floor
        return top * (floor / top) ** ((e - lo_e) / (hi_e - lo_e))
    return m


#: The margin rules compared: the step shipped before (10 under 10 effective exceedances, else 2)
#: and graded ones.
RULES = {
    "step at 10 (before)": lambda e: 10.0 if e < 10.0 else 2.0,
    "graded 4-10 (shipped: stats.clear_pass_margin)": stats.clear_pass_margin,
    "graded 5-10": graded(5.0),
    "graded 5-12": graded(5.0, 12.0),
    "graded 3-10": graded(3.0),
}


#: Budgets far over the true p95 (multiples of it), where a PASS is right: what a margin rule gains.
FAR = (3.0, 5.0, 8.0)


def cell(job: tuple[str, int, int, int]) -> tuple[str, int, list[tuple[float, float]], dict[float, list]]:
    """The route's (e, m*) of every run at B = the true p95, and at each budget of ``FAR``."""
    name, n, reps, seed = job
    fam = sim.FAMILIES[name]
    q = grid.truth(fam, n, 400, seed + 7, (P,))[P]  # as plugin_grid: pooled over 400 runs of n
    rng = np.random.default_rng(seed)
    found = []
    far: dict[float, list] = {k: [] for k in FAR}
    for _ in range(reps):
        t0 = fam.schedule(rng, sim.total(n))
        x = sim.simulate(fam, t0, rng, np.ones(1), n)[0]
        got = route(x, q)
        if got is not None:
            found.append(got)
        for k in FAR:
            far[k].append(route(x, q * k))
    return name, n, found, far


def main() -> int:
    a = _cli.parser(__doc__, reps=400, seed=11).parse_args()
    jobs = [(f, n, a.reps, a.seed + 1000 * i + n) for i, f in enumerate(sim.FAMILIES) for n in SIZES]
    everything: list[tuple[float, float]] = []
    per_cell: dict[str, list[int]] = {rule: [] for rule in RULES}
    gains = {(k, rule): 0 for k in FAR for rule in RULES}
    with ProcessPoolExecutor(a.jobs) as ex:
        for name, n, found, far in ex.map(cell, jobs):
            everything.extend(found)
            for k, got in far.items():
                for rule, m_of in RULES.items():
                    gains[(k, rule)] += sum(1 for g in got if g is not None and g[1] > m_of(g[0]))
            for rule, m_of in RULES.items():
                per_cell[rule].append(sum(1 for e, m in found if m > m_of(e)))
            worst = max(found, key=lambda f: f[1], default=(math.nan, math.nan))
            print(f"# {name} n={n}: {len(found)} of {a.reps} runs reach the route; largest m* {worst[1]:.3g} "
                  f"(at e {worst[0]:.2g})", flush=True)
    runs = a.reps * len(jobs)
    print(f"\n# Runs at a true p95 equal to the budget that reach the far-under-budget route, by their "
          f"effective exceedances e, and how many of them every block's p95 under B/m would PASS "
          f"({len(sim.FAMILIES)} families x {', '.join(map(str, SIZES))} requests x {a.reps} runs = {runs:,}; "
          f"seed {a.seed})\n")
    print("| e | runs | " + " | ".join(f"m = {m:g}" for m in MARGINS) + " | largest m* |")
    print("|---" * (3 + len(MARGINS)) + "|")
    for lo, hi in BINS:
        here = [m for e, m in everything if lo <= e < hi]
        cells = [str(sum(1 for m in here if m > margin)) for margin in MARGINS]
        print(f"| {lo:g}-{hi:g} | {len(here)} | " + " | ".join(cells) + f" | {max(here, default=math.nan):.3g} |")
    print(f"\n# False PASS through this route, per cell ({a.reps} runs a cell, {len(jobs)} cells: family x n)\n")
    print("| margin rule | runs passed, all cells | worst cell | cells with 2 or more |")
    print("|---|---|---|---|")
    for rule, counts in per_cell.items():
        worst = ", ".join(f"{jobs[i][0]} n={jobs[i][1]}: {c}" for i, c in enumerate(counts) if c >= 2)
        print(f"| {rule} | {sum(counts)} | {max(counts)} of {a.reps} | {worst or 'none'} |")
    print(f"\n# Runs PASSed through this route at budgets far over the true p95 (of {runs:,} at each)\n")
    print("| margin rule | " + " | ".join(f"B = {k:g} x p95" for k in FAR) + " |")
    print("|---" * (1 + len(FAR)) + "|")
    for rule in RULES:
        print(f"| {rule} | " + " | ".join(str(gains[(k, rule)]) for k in FAR) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
