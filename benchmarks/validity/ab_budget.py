"""An A/B's absolute budget over R candidate runs, against the latest run alone.

    nice python -m benchmarks.validity.ab_budget [--reps 400] [--seed 1204] [--jobs 2] [--n 4000]

``gpuslo ab`` decides a budget claim on the candidate's latest run; ``gate.ab_other_runs`` then
weighs the earlier runs, each decided on its own samples (``gate.decide``, ``gate.budget_outcomes``):
an earlier FAIL at alpha/R FAILs the claim, an earlier FAIL at alpha, a held one or an estimate over
the budget keeps a PASS from standing.  Every grid family, one replayed schedule per replication and
new service draws per run (as the A/B runs), n = 4,000 (``--n``) at p95, alpha 1%, R = 3.  Budgets: at the
run-averaged true p95 (``grid.truth``: a FAIL or a PASS is false), at the true p95 / 1.3 (over the
budget: FAIL power) and at 1.3 x the true p95 (under it: PASS power).
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, grid, plugin_grid, sim
from pytest_gpuslo import gate

RUNS, P = 3, 0.95


def cell(args: tuple[str, int, int, int]) -> tuple[str, dict[str, int]]:
    name, reps, seed, N = args
    fam = sim.FAMILIES[name]
    q = grid.truth(fam, N, 200, seed + 7, (P,))[P]
    rng = np.random.default_rng(seed)
    out: dict[str, int] = {}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        runs = sim.simulate(fam, t, rng, np.ones(RUNS), N)
        for budget, tag in ((q, "at"), (q / 1.3, "over"), (q * 1.3, "under")):
            spec = current.spec(P, budget)
            verdicts = [gate.decide(spec, gate.Measurements(np.asarray(x, dtype=np.float64), np.zeros(len(x)),
                                                            load_dependent=False), current.POLICY) for x in runs]
            latest = verdicts[-1].checks[0]
            earlier = [gate.budget_outcomes(v) for v in verdicts[:-1]]
            ab = gate.ab_other_runs(latest, earlier, current.POLICY.alpha)
            for rule, c in (("latest", latest), ("ab", ab)):
                key = f"{tag} {rule} {c.outcome}"
                out[key] = out.get(key, 0) + 1
    return name, out


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=1204)
    ap.add_argument("--n", type=int, default=4000, help="requests a run (default 4000)")
    a = ap.parse_args()
    N = a.n
    jobs = [(f, a.reps, a.seed + 97 * i, N) for i, f in enumerate(sim.FAMILIES)]
    print(f"# An A/B's budget over {RUNS} candidate runs against the latest alone ({a.reps} replications, "
          f"n = {N:,}, p95, alpha 1%, seed {a.seed})\n")
    print("| family | false FAIL at true p95 = B: latest | A/B | false PASS: latest | A/B | "
          "FAIL at 1.3 B: latest | A/B | PASS at B / 1.3: latest | A/B |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst = {k: 0 for k in ("ff latest", "ff ab", "fp latest", "fp ab")}
    with ProcessPoolExecutor(a.jobs) as ex:
        for name, o in ex.map(cell, jobs):
            def k(key: str, o: dict[str, int] = o) -> int:
                return o.get(key, 0)
            worst = {"ff latest": max(worst["ff latest"], k("at latest FAIL")), "ff ab": max(worst["ff ab"], k("at ab FAIL")),
                     "fp latest": max(worst["fp latest"], k("at latest PASS")), "fp ab": max(worst["fp ab"], k("at ab PASS"))}
            print(f"| {name} | {plugin_grid.pct(k('at latest FAIL'), a.reps)} | {plugin_grid.pct(k('at ab FAIL'), a.reps)} | "
                  f"{plugin_grid.pct(k('at latest PASS'), a.reps)} | {plugin_grid.pct(k('at ab PASS'), a.reps)} | "
                  f"{100 * k('over latest FAIL') / a.reps:.0f}% | {100 * k('over ab FAIL') / a.reps:.0f}% | "
                  f"{100 * k('under latest PASS') / a.reps:.0f}% | {100 * k('under ab PASS') / a.reps:.0f}% |",
                  flush=True)
    print(f"\nWorst cell, of {a.reps}: false FAIL latest {worst['ff latest']}, A/B {worst['ff ab']}; "
          f"false PASS latest {worst['fp latest']}, A/B {worst['fp ab']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
