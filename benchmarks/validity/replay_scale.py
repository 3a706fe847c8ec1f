"""Research for the next step of the stored-baseline interval: the scale chosen by replay.

    nice python -m benchmarks.validity.replay_scale [--reps 300] [--seed 4242] [--jobs 2]

Not shipped.  The interval ships on 1/q (``stats.prediction_test``), which straightens a queue
near saturation whose p95 goes as 1/(1 - rho f) in the machine's slowness f, but not many-server
queues there (more convex) and it costs power where the queue is far from saturation (straight on
ln q) or bursty (concave).  Here each stored run's own service times are replayed through the same
FIFO servers at f = e^-h, 1, e^h (h = 0.02): T(f) is the run statistic, and the Box-Cox scale
exp(lambda T) on which T is linear in ln f has lambda = -T'' / T'^2.  The median of three stored
runs' lambdas (clipped to [-3, 1]) sets the scale of the prediction interval (alpha/2, R = 8, each
run from its own day).  In this simulator the replay is exact; on real lanes it is a model, which is
what stands between this table and the plugin.  Prints, per cell: the lambda, and A/A false
REGRESSED / +10% caught for ln q, 1/q (shipped) and the replay's scale; then the cells over 1.5 alpha
and the bursty families' median power for each.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, pi_scale, sim
from pytest_gpuslo import stats

N = 10_000
H = 0.02
P = 0.95
ALPHA = 0.01 * stats.PI_ALPHA_FACTOR
CELLS = {**pi_scale.CELLS,
         "M/M/32 0.95": sim.F("poi-exp-c32-r.95", "poisson", "exp", 32, 0.95),
         "M/M/32 0.97": sim.F("poi-exp-c32-r.97", "poisson", "exp", 32, 0.97)}
RULES = ("ln q", "1/q (shipped)", "replay's scale")


def replay_lambda(t_full: np.ndarray, s: np.ndarray, c: int) -> float:
    """-T''/T'^2 of the run statistic under a service scale e^x, by replaying this run's services."""
    t = [stats.run_statistic(sim.fifo(t_full, (s * math.exp(k * H))[None, :], c)[0, -N:], P) for k in (-1, 0, 1)]
    d1, d2 = (t[2] - t[0]) / (2 * H), (t[2] - 2 * t[1] + t[0]) / H ** 2
    return float(np.clip(-d2 / d1 ** 2, -3.0, 1.0)) if d1 > 1e-9 else 0.0


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, float, dict[str, tuple[int, int]]]:
    name, noise, reps, seed = args
    fam = CELLS[name]
    rng = np.random.default_rng(seed)
    out = {r: [0, 0] for r in RULES}
    lams = []
    for _ in range(reps):
        t_full = fam.schedule(rng, sim.total(N))
        lf = pi_scale._days(rng, noise, 9)
        fac = np.exp(np.concatenate([lf, lf[8:]])) * np.array([1.0] * 9 + [1.1])
        s = fam.services(rng, 10, t_full.size) * fac[:, None]
        lat = sim.fifo(t_full, s, fam.c)[:, -N:]
        ts = np.array([stats.run_statistic(x, P) for x in lat])
        lam = float(np.median([replay_lambda(t_full, s[j], fam.c) for j in (5, 6, 7)]))
        lams.append(lam)
        for rule, scale in zip(RULES, (0.0, -1.0, lam)):
            for eff in (0, 1):
                out[rule][eff] += pi_scale._offline(ts[:8], float(ts[8 + eff]), ALPHA, scale)
    return name, noise, float(np.median(lams)), {k: (v[0], v[1]) for k, v in out.items()}


def main() -> int:
    ap = _cli.parser(__doc__, reps=300, seed=4242)
    a = ap.parse_args()
    t0 = time.time()
    jobs = [(nm, nz, a.reps, a.seed + 1000 * i + j) for i, nm in enumerate(CELLS) for j, nz in enumerate(("none", "gauss"))]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = list(ex.map(cell, jobs))
    print(f"# The scale chosen by replay (research; {a.reps} replications, R = 8 from 8 days, alpha/2, seed {a.seed}, "
          f"{time.time() - t0:.0f} s)\n")
    print("| cell | day noise | replay lambda (median) | " + " | ".join(f"{r}: A/A false / +10% caught" for r in RULES) + " |")
    print("|---|---|---|" + "---|" * len(RULES))
    over = {r: [] for r in RULES}
    power: dict[str, list[float]] = {r: [] for r in RULES}
    for nm, nz, lam, out in res:
        cells = []
        for r in RULES:
            aa, hit = out[r]
            cells.append(f"{100 * aa / a.reps:.1f}% / {100 * hit / a.reps:.0f}%")
            if aa > 0.015 * a.reps:
                over[r].append(f"{nm} {nz}")
            if nm in sim.FAMILIES and sim.FAMILIES[nm].bursty:
                power[r].append(hit / a.reps)
        print(f"| {nm} | {nz} | {lam:+.2f} | " + " | ".join(cells) + " |")
    for r in RULES:
        print(f"\n{r}: cells over 1.5 alpha {len(over[r])} of {len(res)} ({', '.join(over[r]) or 'none'}); "
              f"+10% caught on the bursty grid families, median {100 * float(np.median(power[r])):.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
