"""The lanes-full FAIL (``gate.lanes_full``): a queue whose lanes cannot keep up with the rate.

    nice python -m benchmarks.validity.lanes_full [--reps 400] [--seed 5151] [--jobs 2]

Each replication draws a fresh schedule and services, runs the FIFO queue (``sim.fifo``), and
decides the p95 claim through ``gate.decide`` with the requests' service times, the promised rate
(``rate_hz`` = the family's rate) and ``streams`` = its servers, as the plugin hands them over.

- *Stable queues* (the grid's families, four closer to saturation, 0.95-0.98, one whose services
  grow 1.5x through the run to 0.96, and three slowed over their last 12-30% to 0.9-0.97): the budget at the
  run-averaged true p95 (``grid.truth``).  "rule fired" counts FAILs whose reason is the lanes-full
  rule's: each is a false FAIL the rule made (the queue is stable at any length).
- *Overloaded queues* (utilisation 1.05-1.3, two whose services grow through the run, over
  capacity in its second half, and four slowed past capacity, to 1.2-1.5, over their last 15-25%):
  the budget at the median latency of the run's first half (1.5x its p99 for the late slowdowns,
  so that only the slowdown breaks it), so the run's p95 is over it and the queue grows.  "FAIL" with the rule, and "before" with
  the rule switched off (``lanes_full`` returning no words): what the rule adds.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from unittest import mock

import numpy as np

from benchmarks.validity import _cli, grid, plugin_grid, sim
from pytest_gpuslo import gate
from pytest_gpuslo.spec import SloSpec, resolve

SIZES = (4000, 10000)
POLICY = gate.Policy(alpha=0.01)
F = sim.F
NEAR = [F("poi-logn-c4-r.97", "poisson", "lognormal", 4, 0.97), F("onoff-pareto-c4-r.95", "onoff", "pareto", 4, 0.95),
        F("poi-neardet-c1-r.98", "poisson", "neardet", 1, 0.98), F("batch-bimodal-c4-r.95", "batch", "bimodal", 4, 0.95),
        F("ramp-logn-c4-r.8-d.2", "poisson", "lognormal", 4, 0.8, drift=0.2),
        # a slowdown late in the run that stays under capacity: the last quarter and eighth read it
        F("late12-logn-c4-r.7-to.95", "poisson", "lognormal", 4, 0.7, late=(0.12, 0.95 / 0.7)),
        F("late30-neardet-c1-r.6-to.97", "poisson", "neardet", 1, 0.6, late=(0.3, 0.97 / 0.6)),
        F("late20-onoff-pareto-c4-r.6-to.9", "onoff", "pareto", 4, 0.6, late=(0.2, 0.9 / 0.6))]
OVER = [F("poi-neardet-c1-r1.05", "poisson", "neardet", 1, 1.05), F("poi-neardet-c1-r1.1", "poisson", "neardet", 1, 1.1),
        F("poi-logn-c4-r1.1", "poisson", "lognormal", 4, 1.1), F("poi-logn-c4-r1.3", "poisson", "lognormal", 4, 1.3),
        F("onoff-pareto-c4-r1.1", "onoff", "pareto", 4, 1.1), F("onoff-pareto-c4-r1.3", "onoff", "pareto", 4, 1.3),
        F("poi-bimodal-c1-r1.1", "poisson", "bimodal", 1, 1.1), F("batch-bimodal-c4-r1.2", "batch", "bimodal", 4, 1.2),
        # services growing through the run (review92): over capacity in the second half only
        F("ramp-logn-c16-r1-d.4", "poisson", "lognormal", 16, 1.0, drift=0.4),
        F("ramp-neardet-c4-r.95-d.3", "poisson", "neardet", 4, 0.95, drift=0.3),
        # a slowdown over the run's last 15-25% only (review90 #1, review84 #2)
        F("late15-logn-c4-r.7-to1.5", "poisson", "lognormal", 4, 0.7, late=(0.15, 1.5 / 0.7)),
        F("late15-neardet-c1-r.7-to1.2", "poisson", "neardet", 1, 0.7, late=(0.15, 1.2 / 0.7)),
        F("late25-onoff-pareto-c4-r.7-to1.5", "onoff", "pareto", 4, 0.7, late=(0.25, 1.5 / 0.7)),
        F("late25-bimodal-c1-r.7-to1.5", "poisson", "bimodal", 1, 0.7, late=(0.25, 1.5 / 0.7))]
STABLE = list(sim.FAMILIES.values()) + NEAR
WORDS = "the lanes are over capacity"


def measured(fam: sim.Family, t: np.ndarray, s: np.ndarray, n: int, budget: float) -> tuple[gate.Measurements, SloSpec]:
    """One run as the plugin hands it to the gate: the last n requests measured, their services
    kept, the promised rate the family's and ``streams`` its servers."""
    end = sim.fifo(t, s, fam.c)
    lat, tt, ss = end[-n:], t[-n:], s[-n:]
    span = float(tt[-1] - tt[0]) or 1.0
    m = gate.Measurements(lat, np.zeros(n), scheduled_ms=tt - tt[0], service_ms=ss,
                          offered_hz=1000.0 * n / span, achieved_hz=1000.0 * n / float((tt + lat).max() - tt[0]))
    sp = resolve({"p95_ms": float(budget), "rate_hz": 1000.0 * fam.lam, "streams": fam.c, "requests": n,
                  "timeout_s": max(10.0, 2e-3 * float(lat.max()))}, nodeid="validity::lanes_full")
    return m, sp


def decide(fam: sim.Family, t: np.ndarray, s: np.ndarray, n: int, budget: float) -> gate.Verdict:
    """The plugin's verdict on one run (``measured``)."""
    m, sp = measured(fam, t, s, n, budget)
    return gate.decide(sp, m, POLICY)


def stable_cell(args: tuple[sim.Family, int, int, int]) -> tuple[str, int, dict[str, int]]:
    fam, n, reps, seed = args
    q = grid.truth(fam, n, 200, seed + 7, (0.95,))[0.95]
    rng = np.random.default_rng(seed)
    out = {"fired": 0, "FAIL": 0}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        c = decide(fam, t, fam.services(rng, 1, t.size)[0], n, q).checks[0]
        out["FAIL"] += c.outcome == "FAIL"
        out["fired"] += c.outcome == "FAIL" and c.reason.startswith(WORDS)
    return fam.name, n, out


def over_cell(args: tuple[sim.Family, int, int, int]) -> tuple[str, int, dict[str, int]]:
    fam, n, reps, seed = args
    rng = np.random.default_rng(seed)
    out = {"FAIL": 0, "before": 0}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        s = fam.services(rng, 1, t.size)[0]
        lat = sim.fifo(t, s, fam.c)[-n:]
        # a late slowdown's budget: 1.5x the first half's p99, so only the slowdown breaks it
        budget = float(np.quantile(lat[: n // 2], 0.99)) * 1.5 if fam.late else float(np.median(lat[: n // 2]))
        out["FAIL"] += decide(fam, t, s, n, budget).outcome == "FAIL"
        with mock.patch.object(gate, "lanes_full", lambda *a, **k: ""):
            out["before"] += decide(fam, t, s, n, budget).outcome == "FAIL"
    return fam.name, n, out


def main() -> int:
    a = _cli.parser(__doc__, reps=400, seed=5151).parse_args()
    print(f"# The lanes-full FAIL ({a.reps} replications a cell, p95, alpha 1%, seed {a.seed})\n")
    print("Stable queues, budget at the true p95: FAILs the rule made (false), and every FAIL.\n")
    with ProcessPoolExecutor(a.jobs) as ex:
        _cli.table(ex, stable_cell, STABLE, SIZES, a.reps, a.seed, 97, ["rule fired (false FAIL)", "every FAIL"],
                   lambda o: [plugin_grid.pct(o["fired"], a.reps), plugin_grid.pct(o["FAIL"], a.reps)])
        print("\nOverloaded queues, budget at the median latency of the run's first half: FAIL with the rule, "
              "and before it.\n")
        _cli.table(ex, over_cell, OVER, SIZES, a.reps, a.seed, 131, ["FAIL", "before"],
                   lambda o: [f"{100 * o['FAIL'] / a.reps:.0f}%", f"{100 * o['before'] / a.reps:.0f}%"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
