"""The runs count an undecided A/B advises: does a session of that many runs a side decide?

    nice python -m benchmarks.validity.ab_advice [--reps 100] [--seed 20261206] [--jobs 2]

An undecided ``gpuslo ab`` says "if a change of +X% were real, about N runs a side would show it
(gpuslo ab --runs N runs them)" (``stats.ab_test``, 80% power against the change it read).  For
every grid family under per-run machine noise (README), each replication runs a 3+3 session of a
+10% slower candidate and, where it advises N, one new session of N runs a side (new service
draws and machine factors, the same replayed schedule, as a rerun of ``gpuslo ab`` is) two ways:
``--runs N`` (one look at alpha: the advice since review123 F6) and ``--max-runs N`` from 3 (looks
at 3, halfway and N at alpha/3, stopping for futility: the advice before it).  The same for an
unchanged candidate (A/A), where any REGRESSED is a false alarm.  Prints, per family, how often
advice was given, its median N, and how many of the advised sessions REGRESSED.
"""

from __future__ import annotations

import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, grid, plugin_grid, sim
from pytest_gpuslo import gate

N = 10_000
RUNS = 3
ADVICE = re.compile(r"about (\d+) runs a side would show it \(gpuslo ab --runs \1 runs them\)")


def _session(fam: sim.Family, t: np.ndarray, rng: np.random.Generator, runs: int,
             effect: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``runs`` base and ``runs`` candidate runs of one schedule, each with its own machine factor."""
    fac = np.exp(rng.normal(0.0, grid.RUN_SD, 2 * runs))
    fac[runs:] *= 1.0 + effect
    lat = sim.fifo(t, fam.services(rng, 2 * runs, t.size) * fac[:, None], fam.c)[:, -N:]
    return list(lat[:runs]), list(lat[runs:])


def _sequential(a: list[np.ndarray], b: list[np.ndarray], max_runs: int) -> str:
    """``gpuslo ab --runs 3 --max-runs N`` on these runs (``gate.ab_looks``, ``gate.ab_wants_more``)."""
    looks, policy = gate.ab_looks(RUNS, max_runs, current.POLICY)
    for k in looks:
        c = current.ab_check(a[:k], b[:k], 0.95, policy=policy)
        if k == looks[-1] or not gate.ab_wants_more([c], max_runs):
            return c.outcome
    raise AssertionError("unreachable")


def cell(args: tuple[str, int, int]) -> tuple[str, dict[str, list[int]]]:
    name, reps, seed = args
    fam = sim.FAMILIES[name]
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        for arm, effect in (("slow", grid.EFFECT), ("aa", 0.0)):
            a, b = _session(fam, t, rng, RUNS, effect)
            first = current.ab_check(a, b, 0.95)
            said = ADVICE.search(first.reason) if first.outcome == "INCONCLUSIVE" else None
            out.setdefault(f"{arm} sessions", []).append(1)
            if said is None:
                continue
            need = int(said.group(1))
            a2, b2 = _session(fam, t, rng, need, effect)
            out.setdefault(f"{arm} advised", []).append(need)
            out.setdefault(f"{arm} runs", []).append(int(current.ab_check(a2, b2, 0.95).outcome == "REGRESSED"))
            out.setdefault(f"{arm} max-runs", []).append(int(_sequential(a2, b2, need) == "REGRESSED"))
    return name, out


def main() -> int:
    a = _cli.parser(__doc__, reps=100, seed=20261206).parse_args()
    t0 = time.time()
    jobs = [(f, a.reps, a.seed + 1000 * i) for i, f in enumerate(sim.FAMILIES)]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(cell, jobs))
    print(f"# The runs an undecided A/B advises, run: a session of N runs a side after a 3+3 session that "
          f"advised N (n = {N:,}, p95, alpha 1%, per-run noise sd {grid.RUN_SD:.0%}, {a.reps} replications a "
          f"family, seed {a.seed}, {time.time() - t0:.0f} s)\n")
    print("| family | +10%: advised / sessions | median N | REGRESSED with --runs N | with --max-runs N (before) "
          "| A/A: advised | A/A false REGRESSED, --runs N / --max-runs N |")
    print("|---|---|---|---|---|---|---|")
    tot = {k: [0, 0] for k in ("runs", "max-runs", "aa runs", "aa max-runs")}
    for name, out in res:
        adv = out.get("slow advised", [])
        k = len(adv)
        hit_r, hit_m = sum(out.get("slow runs", [])), sum(out.get("slow max-runs", []))
        aa = len(out.get("aa advised", []))
        fa_r, fa_m = sum(out.get("aa runs", [])), sum(out.get("aa max-runs", []))
        for key, hits, n in (("runs", hit_r, k), ("max-runs", hit_m, k), ("aa runs", fa_r, aa), ("aa max-runs", fa_m, aa)):
            tot[key][0] += hits
            tot[key][1] += n
        med = f"{int(np.median(adv))}" if adv else "-"
        print(f"| {name} | {k} / {len(out.get('slow sessions', []))} | {med} | "
              f"{plugin_grid.pct(hit_r, k) if k else '-'} | {plugin_grid.pct(hit_m, k) if k else '-'} | {aa} | "
              f"{fa_r} / {fa_m} |")
    print(f"\nall families: +10% REGRESSED in {plugin_grid.pct(*tot['runs'])} of the advised --runs N sessions, "
          f"{plugin_grid.pct(*tot['max-runs'])} of the --max-runs N ones; A/A false REGRESSED "
          f"{tot['aa runs'][0]} / {tot['aa max-runs'][0]} of {tot['aa runs'][1]} advised sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
