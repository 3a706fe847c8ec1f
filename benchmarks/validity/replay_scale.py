"""The stored-baseline interval's scale from a replay of the stored runs, on the plugin's path.

    nice python -m benchmarks.validity.replay_scale [--reps 400] [--seed 20261201] [--jobs 2]

Every stored run carries lambda from ``replay.scale`` (the plugin's code: its own service times
replayed through its own lanes at machine factors e^(0.02 k), k = -2..2, with the lane and
start/end stamps the simulator gives, as a backend records them); ``gate.compare`` takes 1/q, or
the median lambda of the latest three stored runs when it is steeper (``gate.interval_scale``).
Cells: ``pi_scale``'s 20 queues and M/M/32 at 0.95 and 0.97 (where an independent check found 1/q
at 1.8-2.3% false alarms); R = 8 and 3 stored runs, each from its own day, and a candidate from
another day, A/A and +10% service; day noise none / Gaussian 2% / t3 / right-skewed.  Beside the
shipped rule: the same path at alpha rather than alpha/2 (through ``gate.compare``), and on the same
run statistics (``pi_scale._offline``) 1/q alone (the rule before), ln q, and the replay's lambda
uncapped (flatter scales allowed: the research variant).  Prints
A/A false REGRESSED [Wilson 95%] / +10% caught, the median lambda per cell, then each rule's count
of cells over 1.5 alpha and its median power on the bursty grid families.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from benchmarks.validity import _cli, current, pi_scale, sim
from pytest_gpuslo import gate, replay, stats

N = 10_000
P = 0.95
EFFECT = 0.10
CELLS = {**pi_scale.CELLS,
         "M/M/32 0.95": sim.F("poi-exp-c32-r.95", "poisson", "exp", 32, 0.95),
         "M/M/32 0.97": sim.F("poi-exp-c32-r.97", "poisson", "exp", 32, 0.97)}
SHIPPED = "replay, capped at 1/q (shipped)"
AT_ALPHA = "the same at alpha, not alpha/2"
RULES = (SHIPPED, AT_ALPHA, "1/q (before)", "ln q", "replay uncapped")


def _run(t_full: np.ndarray, s: np.ndarray, c: int, scaled: bool) -> tuple[np.ndarray, float | None]:
    """One simulated run as the plugin records it: its latencies and (``scaled``) its replay
    lambda (only the latest three stored runs' lambdas are read, by R = 8 and R = 3 alike)."""
    lat, lane = sim.fifo_lanes(t_full, s, c)
    end = t_full + lat
    warm = t_full.size - N
    return lat[warm:], replay.scale(t_full, t_full, end - s, end, lane, P, warmup=warm) if scaled else None


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, list[float], dict[tuple[str, int, int], int]]:
    name, noise, reps, seed = args
    fam = CELLS[name]
    rng = np.random.default_rng(seed)
    spec = current.spec(P)
    alpha = current.POLICY.alpha * stats.PI_ALPHA_FACTOR
    out: dict[tuple[str, int, int], int] = {}
    lams: list[float] = []
    for _ in range(reps):
        t_full = fam.schedule(rng, sim.total(N))
        lf = pi_scale._days(rng, noise, 9)
        fac = np.exp(np.concatenate([lf, lf[8:]])) * np.array([1.0] * 9 + [1.0 + EFFECT])
        svc = fam.services(rng, 10, t_full.size) * fac[:, None]
        runs = [_run(t_full, svc[j], fam.c, 5 <= j < 8) for j in range(10)]
        lat = np.array([x for x, _ in runs])
        scales = [{"p95": lam} if lam is not None else None for _, lam in runs]
        ts = np.array([stats.run_statistic(x, P) for x in lat])
        for r in (3, 8):
            base = gate.baseline_input(list(lat[8 - r:8]), spec, paired=True, sessions=[f"day{i}" for i in range(r)],
                                       scales=scales[8 - r:8])
            raw = [x["p95"] for x in scales[5:8] if x]
            uncapped = float(np.median(raw)) if raw else stats.DEFAULT_SCALE
            if r == 8:
                lams.append(uncapped)
            for eff in (0, 1):
                m = gate.Measurements(lat[8 + eff], np.zeros(N), scheduled_ms=t_full[-N:], load_dependent=False)
                hit = gate.compare(spec, m, base, current.POLICY)[0].outcome == "REGRESSED"
                # The same path with the alpha share undone (Policy alpha 2%: 2% x PI_ALPHA_FACTOR).
                wide = gate.compare(spec, m, base, replace(current.POLICY, alpha=0.02))[0].outcome == "REGRESSED"
                got = {SHIPPED: hit, AT_ALPHA: wide}
                for rule, lam in (("1/q (before)", -1.0), ("ln q", 0.0), ("replay uncapped", uncapped)):
                    got[rule] = pi_scale._offline(ts[8 - r:8], float(ts[8 + eff]), alpha, lam)
                for rule, h in got.items():
                    out[(rule, r, eff)] = out.get((rule, r, eff), 0) + int(h)
    print(f"{name} {noise} done", file=sys.stderr, flush=True)
    return name, noise, lams, out


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=20261201)
    ap.add_argument("--cells", default="", help="comma-separated cell names (default: all)")
    a = ap.parse_args()
    names = a.cells.split(",") if a.cells else list(CELLS)
    t0 = time.time()
    jobs = [(nm, nz, a.reps, a.seed + 1000 * i + j) for i, nm in enumerate(names) for j, nz in enumerate(pi_scale.NOISES)]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = {(nm, nz): (lams, out) for nm, nz, lams, out in ex.map(cell, jobs)}
    print(f"# The interval's scale from a replay of the stored runs, through gate.compare ({a.reps} replications, "
          f"n = {N:,}, p95, alpha 1% x {stats.PI_ALPHA_FACTOR:g}, each run from its own day, seed {a.seed}, "
          f"{time.time() - t0:.0f} s)\n")
    outs = {k: out for k, (_, out) in res.items()}
    lam = {k: f"{float(np.median(lams)):+.2f}" for k, (lams, _) in res.items()}
    for r in (8, 3):
        pi_scale.table(r, names, RULES, outs, a.reps, ("replay lambda (median of 3 runs; median over reps)", lam))
    return 0


if __name__ == "__main__":
    sys.exit(main())
