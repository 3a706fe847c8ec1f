"""Variants of the replay-chosen scale, measured before choosing the shipped one (offline, on the
same run statistics as ``replay_scale``; not the plugin's path).

    nice python -m benchmarks.validity.replay_variants rules [--reps 200]
    nice python -m benchmarks.validity.replay_variants clip [--reps 400]
    nice python -m benchmarks.validity.replay_variants shared [--reps 20]

``rules``: which stored runs' lambda and how it is used: the median of the latest 3 or of all 8,
capped at 1/q (shipped: latest 3) or used only when steeper than -1.5 (else 1/q), beside 1/q
alone, on bursty and near-saturation cells.  ``clip``: how steep the scale may go (-3 shipped,
-4.5, -6, -10) on the many-server cells near saturation.  Prints A/A false REGRESSED / +10% caught.
``shared``: the CPU backend's lanes are one queue (the first free lane takes the oldest request),
which the plugin replays lane by lane as recorded; beside it, the same run's statistic recomputed
as a shared c-server queue at each machine factor (what the run would really do): how much steeper
is the shipped lambda?  (Every grid cell above already measures the shipped, per-lane one.)
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, pi_scale, replay_scale, sim
from pytest_gpuslo import replay, stats

RULE_CELLS = ("onoff-bimodal-c1-r.8", "onoff-logn-c4-r.8", "batch-bimodal-c4-r.8", "gamma2-neardet-c1-r.7",
              "onoff-pareto-c4-r.9", "M/M/32 0.95", "M/M/4 0.95", "M/ND/1 0.97", "M/M/16 0.93")
CLIP_CELLS = ("M/M/32 0.95", "M/M/32 0.97", "M/M/16 0.93", "M/M/4 0.95")
RULES = ("latest 3, capped (shipped)", "all 8, capped", "latest 3 if < -1.5", "all 8 if < -1.5", "1/q")
CLIPS = (-3.0, -4.5, -6.0, -10.0)
ALPHA = 0.01 * stats.PI_ALPHA_FACTOR


def _scale(lams: np.ndarray, rule: str) -> float:
    l3, l8 = float(np.median(lams[5:8])), float(np.median(lams))
    return {RULES[0]: min(-1.0, l3), RULES[1]: min(-1.0, l8), RULES[2]: l3 if l3 < -1.5 else -1.0,
            RULES[3]: l8 if l8 < -1.5 else -1.0, RULES[4]: -1.0}[rule]


def cell(args: tuple[str, str, str, int, int]) -> tuple[str, str, dict[tuple[str, int], int], float]:
    mode, name, noise, reps, seed = args
    replay.LAMBDA_RANGE = (-10.0, 1.0) if mode == "clip" else replay.LAMBDA_RANGE
    fam = replay_scale.CELLS[name]
    rng = np.random.default_rng(seed)
    keys = [str(c) for c in CLIPS] if mode == "clip" else list(RULES)
    out = {(k, e): 0 for k in keys for e in (0, 1)}
    seen = []
    for _ in range(reps):
        t_full = fam.schedule(rng, sim.total(replay_scale.N))
        lf = pi_scale._days(rng, noise, 9)
        fac = np.exp(np.concatenate([lf, lf[8:]])) * np.array([1.0] * 9 + [1.1])
        svc = fam.services(rng, 10, t_full.size) * fac[:, None]
        runs = [replay_scale._run(t_full, svc[j], fam.c, j < 8 if mode == "rules" else 5 <= j < 8) for j in range(10)]
        ts = np.array([stats.run_statistic(x, 0.95) for x, _ in runs])
        lams = np.array([lam if lam is not None else -1.0 for _, lam in runs[:8]])
        seen.append(float(np.median(lams[5:8])))
        for k in keys:
            lam = min(-1.0, max(float(k), seen[-1])) if mode == "clip" else _scale(lams, k)
            for e in (0, 1):
                out[(k, e)] += pi_scale._offline(ts[:8], float(ts[8 + e]), ALPHA, lam)
    return name, noise, out, float(np.median(seen))


def shared(reps: int, seed: int) -> None:
    """Per-lane replay lambda against the shared queue's own response, M/M/c, n = 10,000."""
    import math

    rng = np.random.default_rng(seed)
    n, warm = 10_000, 500
    xs = np.array(replay.STEPS, dtype=np.float64) * replay.H
    print(f"# Per-lane replay of a shared queue ({reps} runs a cell, M/M/c, n = {n:,}, seed {seed})\n")
    print("| lanes | utilisation | lambda, per-lane replay (shipped) | lambda, shared-queue response | per-lane "
          "steeper by |\n|---|---|---|---|---|")
    for c in (2, 4, 8, 16):
        for rho in (0.8, 0.9, 0.93):
            lane_l: list[float] = []
            shared_l: list[float] = []
            for _ in range(reps):
                t = np.cumsum(rng.exponential(1 / (c * rho), n))
                s = rng.exponential(1.0, n)
                soj, lane = sim.fifo_lanes(t, s, c)
                end = t + soj
                x = replay.scale(t, t, end - s, end, lane, 0.95, warmup=warm)
                ts = [stats.run_statistic(sim.fifo(t, s * math.exp(v), c)[warm:], 0.95) for v in xs]
                c2, slope, _ = np.polyfit(xs, ts, 2)
                if x is not None:
                    lane_l.append(x)
                if slope >= replay.MIN_ELASTICITY:
                    shared_l.append(float(np.clip(-2 * c2 / slope ** 2, *replay.LAMBDA_RANGE)))
            print(f"| {c} | {rho} | {np.median(lane_l):+.2f} | {np.median(shared_l):+.2f} | "
                  f"{np.median(shared_l) - np.median(lane_l):+.2f} |", flush=True)


def main() -> int:
    ap = _cli.parser(__doc__, reps=200, seed=77)
    ap.add_argument("mode", choices=("rules", "clip", "shared"))
    a = ap.parse_args()
    if a.mode == "shared":
        shared(a.reps, a.seed)
        return 0
    cells, noises = (RULE_CELLS, ("none", "gauss")) if a.mode == "rules" else (CLIP_CELLS, ("gauss", "t3"))
    keys = [str(c) for c in CLIPS] if a.mode == "clip" else list(RULES)
    jobs = [(a.mode, c, nz, a.reps, a.seed + 100 * i + j) for i, c in enumerate(cells) for j, nz in enumerate(noises)]
    print(f"# Replay scale variants: {a.mode} ({a.reps} replications, R = 8, alpha/2, seed {a.seed})\n")
    print("| cell | day noise | lambda (median of latest 3) | " + " | ".join(
        f"clip {k}" if a.mode == "clip" else k for k in keys) + " |")
    print("|---|---|---|" + "---|" * len(keys))
    with ProcessPoolExecutor(a.jobs) as ex:
        for name, noise, out, lam in ex.map(cell, jobs):
            print(f"| {name} | {noise} | {lam:+.2f} | " + " | ".join(
                f"{100 * out[(k, 0)] / a.reps:.1f}% / {100 * out[(k, 1)] / a.reps:.0f}%" for k in keys) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
