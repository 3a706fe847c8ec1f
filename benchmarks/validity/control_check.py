"""The machine control on the stored path, measured through the plugin's own ``gate.compare``.

    nice python -m benchmarks.validity.control_check [--reps 300] [--seed 20261202]

Cells: the queues where heavy-tailed machine noise broke the stored path in the independent check
(docs/statistics.md, Known limits): M/D/1 and D/M/1 at utilisation 0.95, M/M/16 at 0.9, each run
slowed by its own machine factor exp(0.012 t_3) (8 stored runs from 8 sessions, the candidate from
a ninth); and two grid families under the grid's per-run factor exp(N(0, 0.02)).  The schedule
is replayed, service drawn anew per run.  Each run's control reads ln(factor) + N(0, sd_c); the
candidate's code effect (+10% service) does not move its control.  For each control noise sd_c
(none = no control), the A/A false REGRESSED and the +10% caught, with Wilson 95% intervals, how
often the control held a REGRESSED back ("this machine's control moved"), and how often one stood
past it (replayed on a machine as much faster as the control allows, it still regressed).  Then
a slow day: the candidate's machine 8% slower, read by its control; an unchanged candidate must
not read REGRESSED, a +10% or +50% slower one should (review67: a control 45% slower held back
a p95 +397%).  Each candidate carries the replay a real run does (here the simulator's queue).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, plugin_grid, sim
from pytest_gpuslo import gate

N = 10_000
R = 8
EFFECT = 0.10
CONTROL_SD = (None, 0.003, 0.01, 0.03)


def _mdl(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Callable[[np.random.Generator, int], np.ndarray], int]:
    t = np.cumsum(rng.exponential(1 / 0.95, n))
    return t, lambda g, k: np.ones((k, n)), 1


def _dm1(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Callable[[np.random.Generator, int], np.ndarray], int]:
    t = np.arange(1, n + 1) / 0.95
    return t, lambda g, k: g.exponential(1.0, (k, n)), 1


def _mm16(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Callable[[np.random.Generator, int], np.ndarray], int]:
    t = np.cumsum(rng.exponential(1 / (16 * 0.9), n))
    return t, lambda g, k: g.exponential(1.0, (k, n)), 16


def _family(name: str) -> Callable[[np.random.Generator, int], tuple[np.ndarray, Callable[[np.random.Generator, int], np.ndarray], int]]:
    fam = sim.FAMILIES[name]

    def make(rng: np.random.Generator, n: int) -> tuple[np.ndarray, Callable[[np.random.Generator, int], np.ndarray], int]:
        return fam.schedule(rng, n), lambda g, k: fam.services(g, k, n), fam.c
    return make


CELLS = {
    "M/D/1 0.95, t3 factor": (_mdl, "t3"),
    "D/M/1 0.95, t3 factor": (_dm1, "t3"),
    "M/M/16 0.9, t3 factor": (_mm16, "t3"),
    "Poisson near-det. 1 server 0.9, per-run": (_family("poi-neardet-c1-r.9"), "run"),
    "on-off bimodal 1 server 0.8, per-run": (_family("onoff-bimodal-c1-r.8"), "run"),
}


def _factors(rng: np.random.Generator, kind: str, k: int) -> np.ndarray:
    if kind == "t3":
        return np.exp(0.012 * rng.standard_t(3, k))
    return np.exp(rng.normal(0.0, 0.02, k))


#: The slow-day scenario: the candidate's machine this much slower than its drawn factor, which
#: its control reads (with the control's noise); code effects judged there.
SLOW_DAY = 1.08
SLOW_EFFECTS = (0.0, EFFECT, 0.5)


def _judged(spec: object, lat: np.ndarray, t: np.ndarray, base: gate.BaselineInput, ctl: dict | None,
            t_full: np.ndarray, s_row: np.ndarray, c: int) -> str:
    """The plugin's verdict for one candidate, with the replay a real run carries (here exact: the
    simulator's own queue on the run's services divided by the factor)."""
    level = float(sim.run_statistics(lat[None, :], 0.95)[0])

    def sped_up(f: float) -> dict[str, float]:
        faster = sim.fifo(t_full, s_row / f, c)[-N:]
        return {"p95": float(sim.run_statistics(faster[None, :], 0.95)[0]) - level}

    m = gate.Measurements(lat, np.zeros(N), scheduled_ms=t, load_dependent=False, control=ctl, sped_up=sped_up)
    got = gate.compare(spec, m, base, current.POLICY)[0]  # type: ignore[arg-type]
    if "control moved" in got.reason:
        return "HELD" if got.outcome == "INCONCLUSIVE" else "STOOD"
    return got.outcome


def cell(args: tuple[str, int, int]) -> tuple[str, dict[tuple[object, ...], int]]:
    name, reps, seed = args
    make, kind = CELLS[name]
    rng = np.random.default_rng(seed)
    spec = current.spec(0.95)
    out: dict[tuple[object, ...], int] = {}
    total = sim.total(N)

    def count(*key: object) -> None:
        out[key] = out.get(key, 0) + 1

    for _ in range(reps):
        t_full, services, c = make(rng, total)
        fac = _factors(rng, kind, R + 2)
        raw = services(rng, R + 2)
        s = raw * fac[:, None]
        s[R + 1] *= 1.0 + EFFECT
        lat = sim.fifo(t_full, s, c)[:, -N:]
        t = t_full[-N:]
        noise = rng.normal(0.0, 1.0, R + 2)
        slow = [raw[R] * fac[R] * SLOW_DAY * (1.0 + e) for e in SLOW_EFFECTS]
        slow_lat = sim.fifo(t_full, np.vstack(slow), c)[:, -N:]
        for sd in CONTROL_SD:
            ctl = [None] * (R + 2) if sd is None else [{"cpu_ms": float(math.exp(math.log(f) + sd * z))}
                                                       for f, z in zip(fac, noise)]
            base = gate.baseline_input(list(lat[:R]), spec, paired=True, sessions=[f"s{i}" for i in range(R)],
                                       controls=ctl[:R])
            for eff in (0, 1):
                count("drawn", sd, eff, _judged(spec, lat[R + eff], t, base, ctl[R + eff], t_full, s[R + eff], c))
            slow_ctl = None if sd is None else {"cpu_ms": float(math.exp(math.log(fac[R] * SLOW_DAY) + sd * noise[R]))}
            for i, _e in enumerate(SLOW_EFFECTS):
                count("slow", sd, i, _judged(spec, slow_lat[i], t, base, slow_ctl, t_full, slow[i], c))
    return name, out


def wilson(k: float, n: int) -> str:
    """k of n in percent with its Wilson 95% interval (``plugin_grid.pct``)."""
    return plugin_grid.pct(int(k), n)


def main() -> int:
    ap = _cli.parser(__doc__, reps=300, seed=20261202)
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(name, a.reps, a.seed + 1000 * i) for i, name in enumerate(CELLS)]
    with ProcessPoolExecutor(a.jobs) as ex:
        results = dict(ex.map(cell, jobs))
    print(f"# Machine control on the stored path (R = {R} runs from {R} sessions, n = {N:,}, p95, "
          f"alpha 1%, {a.reps} replications, seed {a.seed}, {time.time() - t0:.0f} s)\n")
    print("| cell | control noise sd | A/A false REGRESSED [Wilson 95%] | A/A held back by the control | +10% caught "
          "| +10% held back by the control | +10% stood past the control |")
    print("|---|---|---|---|---|---|---|")
    for name in CELLS:
        out = results[name]
        for sd in CONTROL_SD:
            label = "no control" if sd is None else f"{sd:g}"
            got = {o: [out.get(("drawn", sd, e, o), 0) for e in (0, 1)] for o in ("REGRESSED", "HELD", "STOOD")}
            caught = [got["REGRESSED"][e] + got["STOOD"][e] for e in (0, 1)]
            print(f"| {name} | {label} | {wilson(caught[0], a.reps)} | {100 * got['HELD'][0] / a.reps:.0f}% | "
                  f"{100 * caught[1] / a.reps:.0f}% | {100 * got['HELD'][1] / a.reps:.0f}% | "
                  f"{100 * got['STOOD'][1] / a.reps:.0f}% |")
    print(f"\n## The candidate on a machine {SLOW_DAY - 1:.0%} slower, which its control reads\n")
    print("A/A: REGRESSED (a false alarm; none of them past a control that moved: those are counted) or held; "
          "with the code slower too: REGRESSED, and of those how many a control outside the stored spread "
          "would have held before (stood: replayed on a machine as much faster as the reading allows, it "
          "still regressed).\n")
    print("| cell | control noise sd | A/A false REGRESSED [Wilson 95%] | A/A of them past a moved control | A/A held "
          "| +10% caught (stood) | +50% caught (stood) |")
    print("|---|---|---|---|---|---|---|")
    for name in CELLS:
        out = results[name]
        for sd in CONTROL_SD:
            label = "no control" if sd is None else f"{sd:g}"
            caught = [out.get(("slow", sd, i, "REGRESSED"), 0) + out.get(("slow", sd, i, "STOOD"), 0)
                      for i in range(len(SLOW_EFFECTS))]
            stood = [out.get(("slow", sd, i, "STOOD"), 0) for i in range(len(SLOW_EFFECTS))]
            held = out.get(("slow", sd, 0, "HELD"), 0)
            print(f"| {name} | {label} | {wilson(caught[0], a.reps)} | {stood[0]} | {100 * held / a.reps:.0f}% | "
                  f"{100 * caught[1] / a.reps:.0f}% ({100 * stood[1] / a.reps:.0f}%) | "
                  f"{100 * caught[2] / a.reps:.0f}% ({100 * stood[2] / a.reps:.0f}%) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
