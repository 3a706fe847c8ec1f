"""A clear violation spread thin: every block with a fifth of its requests over 1.25 x the budget.

    nice python -m benchmarks.validity.spread_violation [--reps 400] [--seed 5151] [--jobs 2] [--sizes 200,400]

review164 F3: a body raising on every third request (66 of 200 over budget, spread evenly, design
effect 1.0) read INCONCLUSIVE "too few effective samples" and its test passed: the run could hold
only 10 exceedances at the budget, under the E_min of 20 a design effect needs, and the shortcuts
that need no design effect read too coarse a shape (the block sign test wants blocks of 40
requests; the clear violation half of each block over 1.25 x B).  The clear violation's Markov
bound holds at any share s: if q_p <= B, a block has s of its requests over B with probability
at most (1 - p) / s whatever the dependence inside it.  At s = 0.2 and p95 that is 0.25 a block, and
all 7 blocks 0.25^7 = 6e-5, under the same alpha/50 as the shipped share 0.5 (5 of 7 blocks).

review165 F1 and review166 F9 then found every 5th of 200 requests raising (40 over, design effect
1.0) INCONCLUSIVE: blocks of 28 held 5 or 6 over, under a fifth.  Such a run shows 20 or more
effective exceedances itself (k / D), though it could hold too few at the budget for D to be trusted
there; the binomial then FAILs it at alpha / 50.

Every grid family at n = 200 to 3,000, the budget at the run-averaged true p95 (``grid.truth``: a
FAIL is false), and at the true p99 for a p99 claim: how often each share's rule fires (tail <= alpha/50),
how often either does (the rule shipped: the share-0.5 rule or the share-0.2 one), and how often
``stats.budget_test``, every rule together, FAILs (and of those, by the share-0.2 rule, and by the
20 effective exceedances the run shows).
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, grid, plugin_grid, sim
from pytest_gpuslo import stats

ALPHA = 0.01
SIZES = (200, 400, 1000, 3000)
SHARES = (0.5, 0.33, 0.25, 0.2)


def cell(args: tuple[str, int, int, int]) -> tuple[str, int, dict[str, int]]:
    name, n, reps, seed = args
    fam = sim.FAMILIES[name]
    q = grid.truth(fam, n, 200, seed + 7, (0.95, 0.99))
    rng = np.random.default_rng(seed)
    out = {f"{p} {s}": 0 for p in (0.95, 0.99) for s in SHARES} | {
        f"{p} {k}": 0 for p in (0.95, 0.99) for k in ("either", "FAIL", "thin", "seen")}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        x = sim.simulate(fam, t, rng, np.ones(1), n)[0]
        for p in (0.95, 0.99):
            fired = {s: stats.clear_violation_p(x, q[p], p, share=s) <= ALPHA / 50.0 for s in SHARES}
            for s, f in fired.items():
                out[f"{p} {s}"] += f
            out[f"{p} either"] += fired[0.5] or fired[0.2]
            r = stats.budget_test(x, q[p], p, alpha=ALPHA)
            out[f"{p} FAIL"] += r.outcome == "FAIL"
            out[f"{p} thin"] += r.outcome == "FAIL" and r.reason.startswith("a clear violation through the run")
            out[f"{p} seen"] += r.outcome == "FAIL" and "independent exceedances by the run's own design" in r.reason
    return name, n, out


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=5151)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="run sizes, comma-separated")
    a = ap.parse_args()
    sizes = tuple(int(x) for x in a.sizes.split(","))
    print(f"# A clear violation spread thin: false FAIL at the true quantile ({a.reps} replications, "
          f"alpha 1%, seed {a.seed})\n")
    ends = ["0.5 or 0.2", "budget_test FAIL", "of them by share 0.2", "of them by 20 effective exceedances seen"]
    heads = [f"p95 share {s}" for s in SHARES] + [f"p95 {e}" for e in ends] + [f"p99 share {s}" for s in SHARES] + \
        [f"p99 {e}" for e in ends]

    def row(o: dict[str, int]) -> list[str]:
        keys = [f"{p} {k}" for p in ("0.95", "0.99") for k in [*SHARES, "either", "FAIL", "thin", "seen"]]
        return [plugin_grid.pct(o[k], a.reps) for k in keys]

    with ProcessPoolExecutor(a.jobs) as ex:
        _cli.table(ex, cell, list(sim.FAMILIES), sizes, a.reps, a.seed, 97, heads, row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
