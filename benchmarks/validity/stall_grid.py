"""Generator stalls on the validity grid: false FAIL / REGRESSED and power, old lag rule against new.

    nice python -m benchmarks.validity.stall_grid                  # ~10 min on one core
    python -m benchmarks.validity.stall_grid --reps 40 --families poi-logn-c4-r.8   # a smoke run

A stall freezes the load generator for S ms every ``PERIOD`` mean inter-arrival times (a GC pause,
a neighbour taking the CPU, a body holding the GIL); the requests due meanwhile go out together
when it ends.  Each replication draws one schedule (the family's arrivals) and simulates, with the
grid's FIFO queues (``sim.fifo_lanes``: c servers, Kiefer-Wolfowitz, the server each request took):

* 3 stored runs without stalls, from 3 sessions, and 3 interleaved A/B base runs;
* 3 candidate runs with stalls: the same code (A/A), and the same with service 10% slower (power).

Every run goes through the plugin's own gate: ``gate.decide`` with ``Measurements`` carrying the
lag and the start delay from ``timeline.start_delay`` on the simulated dispatch/start/end/lane
stamps (what the plugin records), ``gate.baseline_input`` for the stored runs, ``gate.ABInput`` for
A/B with each candidate run's ``generator_behind`` note and ``from_dispatch`` latencies, as
``ab._judged`` builds them.  "old" replays the rule before session 10: the start delay was the lag
that found the lane free, and a REGRESSED was never held back for lag.

Absolute: the budget 5% above the true no-stall p95 (pooled over ``--ref-runs`` runs): a FAIL is
false.  Stall sizes are fractions of that p95; a third level puts the budget at 20x the p95 and
the stalls (0.8 p95) under the lag limit.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import current, grid, sim
from benchmarks.validity.plugin_grid import pct
from pytest_gpuslo import gate
from pytest_gpuslo.spec import resolve
from pytest_gpuslo.timeline import start_delay

N = 10_000
P = 0.95
EFFECT = 0.10
#: one stall every this many mean inter-arrival times
PERIOD = 400
#: (stall length, budget), both as multiples of the true no-stall p95.  The last: a generous budget
#: (20x the p95), so stalls of 0.8 p95 stay under the lag limit (5% of the budget) while moving the
#: run's own level (the session-10 independent check's F1).
STALLS = ((0.25, 1.05), (1.0, 1.05), (0.8, 20.0))


def old_start_delay(t: np.ndarray, d: np.ndarray, s: np.ndarray, e: np.ndarray, lane: np.ndarray) -> np.ndarray:
    """The rule before session 10: the lag that found the request's lane free."""
    out = np.maximum(d - t, 0.0)
    for k in np.unique(lane):
        idx = np.flatnonzero(lane == k)
        idx = idx[np.argsort(s[idx], kind="stable")]
        prev = np.concatenate(([-np.inf], e[idx][:-1]))
        out[idx] = np.clip(d[idx] - np.maximum(t[idx], prev), 0.0, None)
    return out


def stalled(t: np.ndarray, every: float, length: float, rng: np.random.Generator) -> np.ndarray:
    """Dispatch times: a request due inside a stall goes out when the stall ends."""
    phase = rng.uniform(0, every)
    k = np.floor((t - phase) / every)
    begin = phase + k * every
    inside = (t >= begin) & (t < begin + length)
    return np.where(inside, begin + length, t)


def run(fam: sim.Family, t: np.ndarray, d: np.ndarray, svc: np.ndarray, n: int
        ) -> tuple[np.ndarray, gate.Measurements, gate.Measurements]:
    """(latency, new-rule Measurements, old-rule Measurements) of one run, warm-up dropped."""
    soj, lane = sim.fifo_lanes(d, svc, fam.c)
    end = d + soj
    start = end - svc
    ns = lambda x: np.round(x * 1e6).astype(np.int64)  # noqa: E731 - ms -> the recorder's ns
    new = start_delay(ns(t), ns(d), ns(start), ns(end), lane) / 1e6
    old = old_start_delay(t, d, start, end, lane)
    w = t.size - n
    lat, lag = (end - t)[w:], (d - t)[w:]
    ms = [gate.Measurements(lat, lag, start_delay_ms=x[w:], scheduled_ms=t[w:], load_dependent=False)
          for x in (new, old)]
    return lat, ms[0], ms[1]


def cell(args: tuple[str, tuple[float, float], int, int, int]) -> tuple[str, tuple[float, float], dict]:
    fam_name, (stall, budget), reps, seed, ref_runs = args
    fam = sim.FAMILIES[fam_name]
    q = grid.truth(fam, N, ref_runs, seed + 7, (P,))[P]
    spec = resolve({"p95_ms": float(budget * q), "rate_hz": 100.0, "timeout_s": max(10.0, budget * q / 500)},
                   nodeid="validity::stall_grid")
    policy = current.POLICY
    rng = np.random.default_rng(seed)
    out: dict = defaultdict(int)
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        gap = float(np.mean(np.diff(t)))
        d = stalled(t, PERIOD * gap, stall * q, rng)
        base = [run(fam, t, t, fam.services(rng, 1, t.size)[0], N)[0] for _ in range(6)]
        # The stored runs were punctual: their latency from the dispatch is their latency (the
        # plugin keeps it with each stored run).
        stored = gate.baseline_input(base[:3], spec, paired=True, sessions=3, dispatched=base[:3])
        for eff in (0, 1):
            cands = [run(fam, t, d, fam.services(rng, 1, t.size)[0] * (1 + EFFECT * eff), N) for _ in range(3)]
            lat, m_new, m_old = cands[-1]
            if eff == 0:
                out[("late", gate.generator_behind(spec, m_new, policy) != "")] += 1
                for rule, m in (("new", m_new), ("old", m_old)):
                    out[(f"abs {rule}", gate.decide(spec, m, policy).checks[0].outcome)] += 1
            # stored path: new = decide (lag hold-back), old = compare alone (never held back)
            out[("stored new", eff, gate.decide(spec, m_new, policy, stored).baseline[0].outcome)] += 1
            out[("stored old", eff, gate.compare(spec, m_old, stored, policy)[0].outcome)] += 1
            notes = [(k, gate.lateness(spec, c[1], policy)) for k, c in enumerate(cands, 1)]
            late = next((f"candidate run {k}: {x}" for k, x in notes if x), "")
            ab = gate.ABInput(tuple(base[3:]), tuple(c[0] for c in cands), late=late,
                              cand_from_dispatch=tuple(gate.from_dispatch(c[1]) for c in cands) if late else ())
            out[("ab new", eff, gate.decide(spec, m_new, policy, ab).baseline[0].outcome)] += 1
            out[("ab old", eff, gate.compare(spec, m_old, gate.ABInput(tuple(base[3:]), tuple(c[0] for c in cands)),
                                             policy)[0].outcome)] += 1
    return fam_name, (stall, budget), dict(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--ref-runs", type=int, default=100)
    ap.add_argument("--families", default="")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--stalls", default="", help="which of the STALLS levels, by index (e.g. 2)")
    ap.add_argument("--no-untouched", action="store_true",
                    help="the rule before session 20: no judging on the requests no lateness reached")
    a = ap.parse_args()
    if a.no_untouched:
        gate.untouched_of = lambda *args: None  # type: ignore[assignment]  # forked workers inherit it
    fams = [f for f in a.families.split(",") if f] or list(sim.FAMILIES)
    levels = [STALLS[int(k)] for k in a.stalls.split(",") if k] or list(STALLS)
    jobs = [(f, s, a.reps, a.seed + 1000 * i + int(100 * s[0]), a.ref_runs) for i, f in enumerate(fams) for s in levels]
    t0 = time.time()
    print(f"stall grid: n={N}, {a.reps} reps a cell, a stall every {PERIOD} mean gaps; alpha {current.POLICY.alpha}")
    print("| family | stall / p95 | budget / p95 | generator late (over the limit) | abs false FAIL old / new | stored A/A REGRESSED old / new "
          "| A/B A/A REGRESSED old / new | stored +10% REGRESSED old / new | A/B +10% REGRESSED old / new |")
    print("|---|---|---|---|---|---|---|---|---|")
    with ProcessPoolExecutor(max_workers=a.workers) as ex:
        for fam_name, stall, o in ex.map(cell, jobs):
            r = a.reps

            def k(*key: object, o: dict = o) -> int:
                return int(o.get(key, 0))

            print(f"| {fam_name} | {stall[0]:g} | {stall[1]:g} | {pct(k('late', True), r)} | {pct(k('abs old', 'FAIL'), r)} / "
                  f"{pct(k('abs new', 'FAIL'), r)} | {pct(k('stored old', 0, 'REGRESSED'), r)} / "
                  f"{pct(k('stored new', 0, 'REGRESSED'), r)} | {pct(k('ab old', 0, 'REGRESSED'), r)} / "
                  f"{pct(k('ab new', 0, 'REGRESSED'), r)} | {pct(k('stored old', 1, 'REGRESSED'), r)} / "
                  f"{pct(k('stored new', 1, 'REGRESSED'), r)} | {pct(k('ab old', 1, 'REGRESSED'), r)} / "
                  f"{pct(k('ab new', 1, 'REGRESSED'), r)} |", flush=True)
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
