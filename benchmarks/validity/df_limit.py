"""What limits power at a fixed number of runs: the runs' spread, or how few runs estimate it.

    nice python -m benchmarks.validity.df_limit [--reps 100] [--seed 20261202] [--jobs 2]

On the grid's bursty cells (n = 10,000, p95), each replication draws one schedule and 12 runs of
it with new service (6 as drawn, 6 with +10% service), and takes each run's level as the plugin
does: T (``stats.run_statistic``), T* (``replay.shuffled``'s 16 fixed permutations, via
``sim.shuffled``), and a variant not shipped, T*rank (each run's sorted services dealt by the same
16 rank permutations: common random numbers across runs, so the permutations' own noise is shared
by the runs rather than averaged down).  Printed per cell: the run-level sd within a schedule
(pooled over replications), the +10% shift, and for A/B 3+3 (t, 4 df, one-sided alpha 0.01) and 8
stored runs (t, 7 df, alpha 0.005, one candidate run) the power a t test has at that sd and shift
(noncentral t) beside the power of the same test with the sd known (the oracle: z).  The gap
between the two is what the few degrees of freedom cost; only more runs close it.
"""

from __future__ import annotations

import math
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats as st

from benchmarks.validity import _cli, sim
from pytest_gpuslo import replay

N = 10_000
EFFECT = 0.10
LEVELS = ("T", "T*", "T*rank")


def _rank_shuffled(t: np.ndarray, s: np.ndarray, c: int) -> np.ndarray:
    """T* with each run's sorted services dealt by the same rank permutations (not shipped)."""
    r, tot = s.shape
    w = tot - N
    rng = np.random.default_rng(replay.SHUFFLE_SEED)
    perms = [rng.permutation(N) for _ in range(replay.SHUFFLES)]
    ranked = np.sort(s[:, w:], axis=1)
    big = np.repeat(s, len(perms), axis=0)
    for k, pm in enumerate(perms):
        big[k::len(perms), w:] = ranked[:, pm]
    lat = sim.fifo(t, big, c)[:, w:]
    return sim.run_statistics(lat, 0.95).reshape(r, len(perms)).mean(axis=1)


def cell(args: tuple[str, int, int]) -> tuple[str, dict[str, tuple[float, float]]]:
    """(cell, {level: (pooled within-schedule sd, mean +10% shift)})."""
    name, reps, seed = args
    fam = sim.FAMILIES[name]
    rng = np.random.default_rng(seed)
    var: dict[str, list[float]] = {k: [] for k in LEVELS}
    shift: dict[str, list[float]] = {k: [] for k in LEVELS}
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        s = fam.services(rng, 12, t.size)
        s[6:] *= 1.0 + EFFECT
        lat = sim.fifo(t, s, fam.c)[:, t.size - N:]
        got = {"T": sim.run_statistics(lat, 0.95), "T*": sim.shuffled(t, s, fam.c, N),
               "T*rank": _rank_shuffled(t, s, fam.c)}
        for k, v in got.items():
            var[k] += [float(np.var(v[:6], ddof=1)), float(np.var(v[6:], ddof=1))]
            shift[k].append(float(v[6:].mean() - v[:6].mean()))
    return name, {k: (math.sqrt(float(np.mean(var[k]))), float(np.mean(shift[k]))) for k in LEVELS}


def powers(sd: float, shift: float) -> tuple[float, float, float, float]:
    """(A/B 3+3 t, A/B oracle, stored-8 t, stored-8 oracle): one-sided, the claim over +2%."""
    d = math.log1p(0.02)
    ab = (shift - d) / (sd * math.sqrt(2 / 3))
    s8 = (shift - d) / (sd * math.sqrt(1 + 1 / 8))
    return (float(st.nct.sf(st.t.ppf(0.99, 4), 4, ab)), float(st.norm.sf(st.norm.ppf(0.99) - ab)),
            float(st.nct.sf(st.t.ppf(0.995, 7), 7, s8)), float(st.norm.sf(st.norm.ppf(0.995) - s8)))


def main() -> int:
    a = _cli.parser(__doc__, 100, 20261202).parse_args()
    cells = [f for f, fam in sim.FAMILIES.items() if fam.bursty]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(cell, [(f, a.reps, a.seed + i) for i, f in enumerate(cells)]))
    print(f"# What limits power at a fixed number of runs ({a.reps} schedules x 12 runs per cell, n = {N}, "
          f"+{EFFECT:.0%} service)\n")
    print("| cell | level | run sd | +10% shift | A/B 3+3: t (4 df) / sd known | 8 stored: t (7 df) / sd known |")
    print("|---|---|---|---|---|---|")
    for name, got in res:
        for k in LEVELS:
            sd, sh = got[k]
            ab, abz, s8, s8z = powers(sd, sh)
            print(f"| {name} | {k} | {sd:.4f} | {sh:+.3f} | {ab:.0%} / {abz:.0%} | {s8:.0%} / {s8z:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
