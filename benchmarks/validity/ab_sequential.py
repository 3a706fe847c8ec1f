"""``gpuslo ab --max-runs``: more interleaved runs only while a claim is undecided, on the grid.

    nice python -m benchmarks.validity.ab_sequential [--reps 400] [--seed 20261203]

Every grid family (README) under no machine noise and the per-run factor exp(N(0, 0.02)); each
replication draws 8 base runs, 8 unchanged candidate runs (A/A) and 8 candidate runs with +10%
service, on one replayed schedule.  Fixed: 3+3 runs at alpha (today's default).  Sequential: the
plugin's own ``gate.ab_looks(3, 8)`` (looks after 3, 6 and 8 runs a side at alpha/3 each) and
``gate.ab_wants_more`` (go on while a claim is undecided and not futile), every look decided by
``gate.compare`` as ``gpuslo ab`` decides it.  Prints A/A false REGRESSED (Wilson 95%), +10%
caught, and the mean runs a side each mode spent.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, current, grid, plugin_grid, sim
from pytest_gpuslo import gate

N = 10_000
RUNS, MAX_RUNS = 3, 8
BURSTY = ("onoff", "gamma", "batch")


def _decide(a: list[np.ndarray], b: list[np.ndarray], policy: gate.Policy,
            la: list[float] | None = None, lb: list[float] | None = None) -> gate.BaselineCheck:
    return current.ab_check(a, b, 0.95, la, lb, policy)


def sequential(a: list[np.ndarray], b: list[np.ndarray], la: list[float] | None = None,
               lb: list[float] | None = None) -> tuple[str, int]:
    looks, policy = gate.ab_looks(RUNS, MAX_RUNS, current.POLICY)
    for k in looks:
        c = _decide(a[:k], b[:k], policy, None if la is None else la[:k], None if lb is None else lb[:k])
        if k == looks[-1] or not gate.ab_wants_more([c], MAX_RUNS):
            return c.outcome, k
    raise AssertionError("unreachable")


def cell(args: tuple[str, str, int, int, bool]) -> tuple[str, str, dict[str, float]]:
    name, noise, reps, seed, shuffled = args
    fam = sim.FAMILIES[name]
    rng = np.random.default_rng(seed)
    out: dict[str, float] = {}
    total = sim.total(N)

    def add(key: str, v: float = 1.0) -> None:
        out[key] = out.get(key, 0.0) + v

    for _ in range(reps):
        t_full = fam.schedule(rng, total)
        fac = np.exp(rng.normal(0.0, grid.RUN_SD, 3 * MAX_RUNS)) if noise == "run" else np.ones(3 * MAX_RUNS)
        fac[2 * MAX_RUNS:] *= 1.0 + grid.EFFECT
        svc = fam.services(rng, 3 * MAX_RUNS, total) * fac[:, None]
        lat = sim.fifo(t_full, svc, fam.c)[:, -N:]
        base, same, slower = list(lat[:MAX_RUNS]), list(lat[MAX_RUNS:2 * MAX_RUNS]), list(lat[2 * MAX_RUNS:])
        lv = list(sim.shuffled(t_full, svc, fam.c, N)) if shuffled else None
        for j, (eff, cand) in enumerate((("aa", same), ("slow", slower)), 1):
            fixed = _decide(base[:RUNS], cand[:RUNS], current.POLICY).outcome
            add(f"fixed {eff} {fixed}")
            seq, used = sequential(base, cand)
            add(f"seq {eff} {seq}")
            add(f"seq {eff} runs", used)
            if lv is not None:  # the same runs on the replayed statistic (replay.shuffled)
                la, lb = lv[:MAX_RUNS], lv[j * MAX_RUNS:(j + 1) * MAX_RUNS]
                add(f"rfixed {eff} {_decide(base[:RUNS], cand[:RUNS], current.POLICY, la[:RUNS], lb[:RUNS]).outcome}")
                seq, used = sequential(base, cand, la, lb)
                add(f"rseq {eff} {seq}")
                add(f"rseq {eff} runs", used)
    return name, noise, out


def wilson(k: float, n: int) -> str:
    """k of n in percent with its Wilson 95% interval (``plugin_grid.pct``)."""
    return plugin_grid.pct(int(k), n)


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=20261203)
    ap.add_argument("--shuffled", action="store_true",
                    help="also decide on the replayed statistic (replay.shuffled): the 'replayed' rows")
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(f, noise, a.reps, a.seed + 1000 * i + j, a.shuffled) for i, f in enumerate(sim.FAMILIES)
            for j, noise in enumerate(("none", "run"))]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(cell, jobs))
    print(f"# gpuslo ab, fixed 3+3 against --max-runs {MAX_RUNS} (looks {gate.ab_looks(RUNS, MAX_RUNS, current.POLICY)[0]}), "
          f"n = {N:,}, p95, alpha 1%, +{grid.EFFECT:.0%} service, {a.reps} replications, seed {a.seed}, "
          f"{time.time() - t0:.0f} s\n")
    print("| family | machine noise | A/A false REGRESSED: fixed | sequential | +10% caught: fixed | sequential "
          "| runs a side, sequential: A/A / +10% |")
    print("|---|---|---|---|---|---|---|")
    summary: dict[str, list[float]] = {}
    for name, noise, out in res:
        n = a.reps
        row = [wilson(out.get("fixed aa REGRESSED", 0), n), wilson(out.get("seq aa REGRESSED", 0), n),
               f"{100 * out.get('fixed slow REGRESSED', 0) / n:.0f}%", f"{100 * out.get('seq slow REGRESSED', 0) / n:.0f}%",
               f"{out.get('seq aa runs', 0) / n:.1f} / {out.get('seq slow runs', 0) / n:.1f}"]
        print(f"| {name} | {noise} | " + " | ".join(row) + " |")
        if a.shuffled:
            row = [wilson(out.get("rfixed aa REGRESSED", 0), n), wilson(out.get("rseq aa REGRESSED", 0), n),
                   f"{100 * out.get('rfixed slow REGRESSED', 0) / n:.0f}%",
                   f"{100 * out.get('rseq slow REGRESSED', 0) / n:.0f}%",
                   f"{out.get('rseq aa runs', 0) / n:.1f} / {out.get('rseq slow runs', 0) / n:.1f}"]
            print(f"| {name}, replayed | {noise} | " + " | ".join(row) + " |")
        if name.startswith(BURSTY):
            for mode in ("fixed", "seq") + (("rfixed", "rseq") if a.shuffled else ()):
                summary.setdefault(f"{noise} {mode}", []).append(out.get(f"{mode} slow REGRESSED", 0) / n)
    print("\nBursty cells (on-off, gamma, batch arrivals), +10% caught, median (min); r...: replayed statistic:")
    for key, v in summary.items():
        print(f"- {key}: {100 * float(np.median(v)):.0f}% ({100 * min(v):.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
