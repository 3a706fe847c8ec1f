"""The late-step note on a PASS (``gate.late_step``): the bodies got slower late in the run.

    nice python -m benchmarks.validity.late_step [--reps 400] [--seed 6161] [--jobs 2]

Each replication draws a fresh schedule and services, runs the FIFO queue (``sim.fifo``) and
decides the p95 claim through ``gate.decide`` with the requests' service times, as the plugin
hands them over (``lanes_full.decide``).

- *Stable queues* (the grid's 15 families and the lanes-full grid's near-saturation ones, budget
  1.5x the true p95): "note" counts runs whose services the rule reads as stepping up late,
  PASS or not (the verdict carries it only on a PASS); each is a false note (the services never
  rose), except on the two drifting families, whose services do rise through the run (7.5% and
  20% either side of their mean).
- *Late steps under capacity* (review97 #2: 4 lanes at 0.66 of capacity stepping to 0.95-0.97
  over the last 5-10%, and others): the budget at 1.5x the first half's p95, as review97 set it.
  "PASS" counts PASSes, "silent" those without the note: a PASS that says nothing of the step.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, grid, plugin_grid, sim
from benchmarks.validity.lanes_full import NEAR, measured
from pytest_gpuslo import gate

SIZES = (4000, 10000)
POLICY = gate.Policy(alpha=0.01)
F = sim.F
STABLE = [*sim.FAMILIES.values(), *NEAR[:5]]
STEPS = [F("late5-logn-c4-r.66-to.95", "poisson", "lognormal", 4, 0.66, late=(0.05, 0.95 / 0.66)),
         F("late5-logn-c4-r.66-to.97", "poisson", "lognormal", 4, 0.66, late=(0.05, 0.97 / 0.66)),
         F("late10-logn-c4-r.66-to.95", "poisson", "lognormal", 4, 0.66, late=(0.10, 0.95 / 0.66)),
         F("late5-neardet-c1-r.6-to.9", "poisson", "neardet", 1, 0.6, late=(0.05, 0.9 / 0.6)),
         F("late8-onoff-pareto-c4-r.5-to.9", "onoff", "pareto", 4, 0.5, late=(0.08, 0.9 / 0.5)),
         F("late5-bimodal-c1-r.5-to.85", "poisson", "bimodal", 1, 0.5, late=(0.05, 0.85 / 0.5))]


def noted(v: gate.Verdict) -> bool:
    return any(r.startswith(gate.LATE_STEP_WORDS) for r in v.reasons)


def stable_cell(args: tuple[sim.Family, int, int, int]) -> tuple[str, int, dict[str, int]]:
    fam, n, reps, seed = args
    q = grid.truth(fam, n, 200, seed + 7, (0.95,))[0.95]
    rng = np.random.default_rng(seed)
    out = {"note": 0, "PASS": 0}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        m, sp = measured(fam, t, fam.services(rng, 1, t.size)[0], n, 1.5 * q)
        out["note"] += bool(gate.late_step(m, sp, POLICY.alpha))  # on every run, PASS or not
        out["PASS"] += gate.decide(sp, m, POLICY).outcome == "PASS"
    return fam.name, n, out


def step_cell(args: tuple[sim.Family, int, int, int]) -> tuple[str, int, dict[str, int]]:
    fam, n, reps, seed = args
    rng = np.random.default_rng(seed)
    out = {"PASS": 0, "silent": 0, "note": 0}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        s = fam.services(rng, 1, t.size)[0]
        lat = sim.fifo(t, s, fam.c)[-n:]
        m, sp = measured(fam, t, s, n, 1.5 * float(np.quantile(lat[: n // 2], 0.95)))
        v = gate.decide(sp, m, POLICY)
        out["PASS"] += v.outcome == "PASS"
        out["silent"] += v.outcome == "PASS" and not noted(v)
        out["note"] += noted(v)
    return fam.name, n, out


def main() -> int:
    a = _cli.parser(__doc__, reps=400, seed=6161).parse_args()
    print(f"# The late-step note on a PASS ({a.reps} replications a cell, p95, alpha 1%, seed {a.seed})\n")
    print("Stable queues, budget 1.5x the true p95: runs the rule reads as stepping up late, PASS or not "
          "(false but for the drifting two), and PASSes.\n")
    with ProcessPoolExecutor(a.jobs) as ex:
        _cli.table(ex, stable_cell, STABLE, SIZES, a.reps, a.seed, 97, ["note (false)", "PASS"],
                   lambda o: [plugin_grid.pct(o[k], a.reps) for k in ("note", "PASS")])
        print("\nLate steps under capacity, budget 1.5x the first half's p95: PASS, PASS without the note "
              "(silent), and runs with the note.\n")
        _cli.table(ex, step_cell, STEPS, SIZES, a.reps, a.seed, 131, ["PASS", "silent PASS", "note"],
                   lambda o: [plugin_grid.pct(o[k], a.reps) for k in ("PASS", "silent", "note")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
