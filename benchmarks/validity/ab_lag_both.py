"""`gpuslo ab` on a busy machine: generator lateness on both sides, as neighbours make it.  Should a
REGRESSED that the latency charged from the schedule shows stand without the reading with the
lateness taken off both sides (the rule ``gate._late_checks`` ships)?

    nice python -m benchmarks.validity.ab_lag_both [--reps 200] [--seed 7373] [--jobs 2] [--families a,b]

review105: a 25% slower formatter on a busy 2-core machine read +56.3% [+5.5%, +131.5%] as measured
and +15.2% [-3.1%, +37.1%] without the lateness, so INCONCLUSIVE.  Each replication draws one
schedule of a grid family and six interleaved runs of it (3 base, 3 candidate, fresh service draws
each).  Every run, base and candidate alike, is stalled as busy neighbours stall a generator: stalls
at Poisson times whose rate is drawn for each run (lognormal, sd 0.7 on the log: some runs get far
more than others), exponential lengths; a request due inside a stall goes out when it ends.

* ``busy``: stalls of mean 0.5 x the true p95, on average one every 200 mean gaps;
* ``busy long``: mean 2 x the p95, one every 400 gaps;
* ``cand busier``: as ``busy``, the candidate's runs at twice the base's rate (neighbours that
  came and went with the candidate's turns: the lateness is not the code's, and is not alike).

Readings of the same runs: ``now`` (``gate.decide`` as ``ab._judged`` builds it: a REGRESSED on
latency from the schedule stands where the lateness lifted the candidate's p95 no more than the
base's, on the mean of the runs' log lifts, ``gate._lifts``; elsewhere it must hold without the
lateness on both sides); ``before`` (the same without the lift rule: it must always hold without);
``measured`` (the comparison on latency from the schedule alone, lateness held back nowhere).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, grid, sim
from benchmarks.validity.ab_stalls import ab_input
from benchmarks.validity.plugin_grid import pct
from benchmarks.validity.stall_grid import run
from pytest_gpuslo import gate
from pytest_gpuslo.spec import resolve

N = 5_000
P = 0.95
SCENARIOS = {"busy": (0.5, 200, 1.0), "busy long": (2.0, 400, 1.0), "cand busier": (0.5, 200, 2.0)}
EFFECTS = (0.0, 0.10, 0.25)


def busy(t: np.ndarray, mean_len: float, every: float, rng: np.random.Generator) -> np.ndarray:
    """Dispatch times under stalls at Poisson times (mean gap ``every`` ms), exponential lengths."""
    span = float(t[-1] - t[0])
    k = rng.poisson(span / every)
    begin = np.sort(rng.uniform(float(t[0]), float(t[-1]), k))
    end = begin + rng.exponential(mean_len, k)
    if not k:
        return t
    end = np.maximum.accumulate(end)  # overlapping stalls end at the latest end
    i = np.searchsorted(begin, t, side="right") - 1
    until = np.where(i >= 0, end[np.clip(i, 0, None)], -np.inf)
    return np.where(t < until, until, t)


def readings(spec: gate.SloSpec, runs: list, policy: gate.Policy) -> dict[str, str]:
    base, cand = runs[:3], runs[3:]
    ab, either = ab_input(spec, runs, policy)
    now = gate.decide(spec, cand[-1][1], policy, ab).baseline[0].outcome
    shipped = gate._lifts
    gate._lifts = lambda ab, p: None  # type: ignore[assignment]  # the rule before
    try:
        before = gate.decide(spec, cand[-1][1], policy, ab).baseline[0].outcome
    finally:
        gate._lifts = shipped
    measured = gate.compare_ab(spec, gate.ABInput(tuple(b[0] for b in base), tuple(c[0] for c in cand)),
                               policy)[0].outcome
    return {"before": before, "measured": measured, "now": now, "late": "yes" if either else ""}


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, dict]:
    fam_name, scenario, reps, seed = args
    fam = sim.FAMILIES[fam_name]
    q = grid.truth(fam, N, 100, seed + 7, (P,))[P]
    spec = resolve({"p95_ms": float(1.05 * q), "rate_hz": 100.0, "timeout_s": max(10.0, q / 100)},
                   nodeid="validity::ab_lag_both")
    policy = current.POLICY
    mean_len, period, cand_x = SCENARIOS[scenario]
    rng = np.random.default_rng(seed)
    out: dict = defaultdict(int)
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        gap = float(np.mean(np.diff(t)))
        rates = rng.lognormal(0.0, 0.7, 6) * np.where(np.arange(6) >= 3, cand_x, 1.0)
        ds = [busy(t, mean_len * q, period * gap / r, rng) for r in rates]
        for e in EFFECTS:
            runs = [run(fam, t, ds[k], fam.services(rng, 1, t.size)[0] * (1 + e * (k >= 3)), N) for k in range(6)]
            for rule, outcome in readings(spec, runs, policy).items():
                out[(e, rule, outcome)] += 1
    return fam_name, scenario, dict(out)


def main() -> int:
    ap = _cli.parser(__doc__, reps=200, seed=7373)
    ap.add_argument("--families", default="")
    ap.add_argument("--scenarios", default="")
    a = ap.parse_args()
    fams = [f for f in a.families.split(",") if f] or list(sim.FAMILIES)
    scen = [s for s in a.scenarios.split(",") if s] or list(SCENARIOS)
    jobs = [(f, s, a.reps, a.seed + 101 * i + 7 * j) for i, f in enumerate(fams) for j, s in enumerate(scen)]
    print(f"# gpuslo ab, lateness on both sides ({a.reps} replications, n = {N}, p95, alpha {current.POLICY.alpha})\n")
    heads = [f"{'A/A' if e == 0 else f'+{e:.0%}'} REGRESSED before / measured / now" for e in EFFECTS]
    print("| family | lateness | late | " + " | ".join(heads) + " |")
    print("|---" * (3 + len(heads)) + "|")
    with ProcessPoolExecutor(a.jobs) as ex:
        for fam_name, scenario, o in ex.map(cell, jobs):
            r = a.reps
            late = 100 * o.get((0.0, "late", "yes"), 0) / r
            cols = [" / ".join(pct(o.get((e, rule, "REGRESSED"), 0), r) if e == 0 else
                               f"{100 * o.get((e, rule, 'REGRESSED'), 0) / r:.0f}%"
                               for rule in ("before", "measured", "now")) for e in EFFECTS]
            print(f"| {fam_name} | {scenario} | {late:.0f}% | " + " | ".join(cols) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
