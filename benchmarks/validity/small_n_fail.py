"""A FAIL from the binomial alone on short runs (n < 4,000 at p95, too few for sectioning's 8 batches).

    nice python -m benchmarks.validity.small_n_fail [--reps 300] [--seed 4242] [--jobs 2]

Every grid family at n = 1,000, 2,000 and 3,000 (``stats.budget_test``, alpha 1%): the budget at the
run-averaged true p95 (``grid.truth``: a FAIL is false) and at the true p95 / 1.3 (a FAIL is right).
Columns: the shipped rule (the binomial decides a FAIL once the run holds 20 effective exceedances,
whether or not sectioning's batches fit); the rule before (no binomial FAIL without 8 batches); and
the binomial without the 20-effective-exceedance minimum, which is why that minimum stays.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, grid, plugin_grid, sim
from pytest_gpuslo import stats

ALPHA = 0.01
SIZES = (1000, 2000, 3000)


def cell(args: tuple[str, int, int, int]) -> tuple[str, int, dict[str, int]]:
    name, n, reps, seed = args
    fam = sim.FAMILIES[name]
    q = grid.truth(fam, n, 200, seed + 7, (0.95,))[0.95]
    rng = np.random.default_rng(seed)
    out = {k: 0 for k in ("shipped", "before", "no E_min", "hit shipped", "hit before")}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        x = sim.simulate(fam, t, rng, np.ones(1), n)[0]
        for budget, tag in ((q, ""), (q / 1.3, "hit ")):
            r = stats.budget_test(x, budget, 0.95, alpha=ALPHA)
            fail = r.outcome == "FAIL"
            before = fail and not (r.batches == 0 and r.reason == "")
            out[f"{tag}shipped"] += fail
            out[f"{tag}before"] += before
            if not tag:
                out["no E_min"] += fail or (r.outcome == "INCONCLUSIVE" and r.p_fail <= ALPHA)
    return name, n, out


def main() -> int:
    a = _cli.parser(__doc__, reps=300, seed=4242).parse_args()
    jobs = [(f, n, a.reps, a.seed + 97 * i + n) for i, f in enumerate(sim.FAMILIES) for n in SIZES]
    print(f"# Short runs: a FAIL from the binomial alone ({a.reps} replications, p95, alpha 1%, seed {a.seed})\n")
    print("| family | n | false FAIL at true p95 = B: shipped | before | without E_min | FAIL at true p95 = 1.3 B: "
          "shipped | before |")
    print("|---|---|---|---|---|---|---|")
    with ProcessPoolExecutor(a.jobs) as ex:
        for name, n, o in ex.map(cell, jobs):
            print(f"| {name} | {n} | {plugin_grid.pct(o['shipped'], a.reps)} | {plugin_grid.pct(o['before'], a.reps)} | "
                  f"{plugin_grid.pct(o['no E_min'], a.reps)} | {100 * o['hit shipped'] / a.reps:.0f}% | "
                  f"{100 * o['hit before'] / a.reps:.0f}% |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
