"""How often a run of the request count an INCONCLUSIVE budget claim names does PASS.

    python -m benchmarks.validity.advice_counts [--reps 10] [--seed 7]

An absolute claim held back for too few effective samples says "needs about N requests", and a
run far under its budget "or 4000 if it stays this far under budget" (``stats.budget_test``).
For each grid family, the budget is set at m times its true p95 (from one run of 200,000); runs
of 1,500 and 3,000 requests are judged; for every run that names a count, one new run of that
many requests on a new schedule is judged, and the table gives how many of them PASS.  The
design effect of a short run is low on queues (it grows with the run's length), so a count that
follows from it is a floor, not a promise: the table says how far.  Advice only: the gate's
decisions do not depend on it.
"""

from __future__ import annotations

import re
import sys

import numpy as np

from benchmarks.validity import _cli, sim
from pytest_gpuslo import stats

#: Budgets as multiples of the family's true p95: near it (the design-effect route) and far
#: under (the blocks' route, B/10).
MARGINS = (3.0, 25.0)
SIZES = (1500, 3000)


def route(reason: str) -> str | None:
    """Which count an INCONCLUSIVE budget claim names: its blocks' (``or N if it stays``) or the
    design effect's (``needs about N``); None when it names none."""
    if "if it stays this far under budget" in reason:
        return "blocks"
    return "design effect" if re.search(r"needs about [\d,]+ requests", reason) else None


def main() -> int:
    a = _cli.parser(__doc__, reps=10, seed=7).parse_args()
    rng = np.random.default_rng(a.seed)
    print(f"# Runs of the named count that PASS ({a.reps} runs of each of {', '.join(map(str, SIZES))} "
          f"requests a cell, p95)\n")
    print("| family | budget | route | named | PASS at that count |")
    print("|---|---|---|---|---|")
    for name, fam in sim.FAMILIES.items():
        t = fam.schedule(rng, sim.total(200_000))
        q = float(np.quantile(sim.simulate(fam, t, rng, np.ones(1), 200_000)[0], 0.95))
        for m in MARGINS:
            counts: dict[str, list[int]] = {}
            for _ in range(a.reps):
                for n0 in SIZES:
                    t0 = fam.schedule(rng, sim.total(n0))
                    r = stats.budget_test(sim.simulate(fam, t0, rng, np.ones(1), n0)[0], q * m, 0.95)
                    which = route(r.reason) if r.outcome == "INCONCLUSIVE" and r.needed_n else None
                    if which is None or r.needed_n is None:
                        continue
                    n1 = int(r.needed_n)
                    t1 = fam.schedule(rng, sim.total(n1))
                    again = stats.budget_test(sim.simulate(fam, t1, rng, np.ones(1), n1)[0], q * m, 0.95)
                    counts.setdefault(which, []).append(again.outcome == "PASS")
            for which, passed in sorted(counts.items()):
                print(f"| {name} | {m:g}x p95 | {which} | {len(passed)} | {sum(passed)} ({np.mean(passed):.0%}) |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
