"""Run-level rules evaluated offline on saved per-replication statistics.

    python -m benchmarks.validity.grid --part runlevel --reps 400 --out results/runlevel_n10000.npz
    python -m benchmarks.validity.runlevel results/runlevel_n10000.npz

The npz holds, per (family, noise): T0/T2/T4 (run statistics untrimmed / 2 / 4 of 20 batches trimmed
per end) of 16 runs per replication (8 stored, candidate A/A, candidate +10%, B runs A/A x3, +10%
x3), ctl (ln calibration, 0.3% noise) and eps (replay elasticity of the latest stored run, the A/A
and the +10% candidate).  Every rule here is one vectorised numpy expression over replications.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict

import numpy as np
from scipy import stats as st

from benchmarks.validity import sim
from benchmarks.validity.grid import ALPHA, wilson

UP = math.log1p(0.02)


def pi_reject(stored: np.ndarray, cand: np.ndarray, alpha: float) -> np.ndarray:
    """REGRESSED by the prediction interval: stored (reps, R), cand (reps,)."""
    r = stored.shape[1]
    s = stored.std(axis=1, ddof=1)
    tq = st.t.ppf(1 - alpha, r - 1)
    return (cand - stored.mean(axis=1)) - tq * s * math.sqrt(1 + 1 / r) > UP


def ab_reject(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """REGRESSED by the pooled two-sample t (A/B, R runs a side)."""
    ra, rb = a.shape[1], b.shape[1]
    ss = ((a - a.mean(1, keepdims=True)) ** 2).sum(1) + ((b - b.mean(1, keepdims=True)) ** 2).sum(1)
    df = ra + rb - 2
    se = np.sqrt(ss / df * (1 / ra + 1 / rb))
    return (b.mean(1) - a.mean(1)) - st.t.ppf(1 - alpha, df) * se > UP


def rules(d: dict[str, np.ndarray]) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """(method, R) -> (A/A rejections, +10% rejections), each (reps,) bool."""
    out = {}
    ctl = d["ctl"]
    for trim in (0, 2, 4):
        T = d[f"T{trim}"]
        for R in (3, 5, 8):
            for div in (1, 2, 4):
                a = ALPHA / div
                out[(f"PI-trim{trim}-a/{div}", R)] = (pi_reject(T[:, 8 - R:8], T[:, 8], a),
                                                      pi_reject(T[:, 8 - R:8], T[:, 9], a))
            # control-adjusted, elasticity of the latest stored run (the baseline's operating point)
            for src in ("stored", "cand", "mid"):
                for div in (1, 2):
                    a = ALPHA / div
                    # the elasticity at the baseline's operating point, the candidate's, or their
                    # mean (trapezoid: the response of T to the machine factor is convex)
                    ep = d["eps"]
                    e0, e1 = {"stored": (ep[:, 0], ep[:, 0]), "cand": (ep[:, 1], ep[:, 2]),
                              "mid": ((ep[:, 0] + ep[:, 1]) / 2, (ep[:, 0] + ep[:, 2]) / 2)}[src]
                    adj0 = T[:, 8 - R:8] - e0[:, None] * ctl[:, 8 - R:8]
                    adj1 = T[:, 8 - R:8] - e1[:, None] * ctl[:, 8 - R:8]
                    out[(f"PIadj-{src}-trim{trim}-a/{div}", R)] = (
                        pi_reject(adj0, T[:, 8] - e0 * ctl[:, 8], a),
                        pi_reject(adj1, T[:, 9] - e1 * ctl[:, 9], a))
        for R in (2, 3):
            for div in (1, 2):
                a = ALPHA / div
                out[(f"AB-trim{trim}-a/{div}", R)] = (ab_reject(T[:, 8 - R:8], T[:, 10:10 + R], a),
                                                      ab_reject(T[:, 8 - R:8], T[:, 13:13 + R], a))
    return out


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/validity/results/runlevel_n10000.npz"
    z = np.load(path)
    cells: dict = defaultdict(dict)
    for key in z.files:
        fam, noise, name = key.split("|")
        cells[(fam, noise)][name] = z[key]
    res: dict = {}
    for (fam, noise), d in cells.items():
        for key, (aa, eff) in rules(d).items():
            res[(fam, noise) + key] = (int(aa.sum()), int(eff.sum()), aa.size)
    methods = sorted({k[2:] for k in res})
    fams = [f for f in sim.FAMILIES if (f, "none") in cells]
    bursty = [f for f in fams if sim.FAMILIES[f].bursty]
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    print("| method | R | noise | cells over 1.5a | Wilson ub > 3a | worst A/A [95%] | bursty power min / median |")
    print("|---|---|---|---|---|---|---|")
    for m, R in methods:
        if only and only not in m:
            continue
        for noise in ("none", "run", "day"):
            v = [(res[(f, noise, m, R)], f) for f in fams if (f, noise, m, R) in res]
            if not v:
                continue
            over = sum(1 for (k, _, n), _ in v if k / n > 1.5 * ALPHA)
            ub = sum(1 for (k, _, n), _ in v if wilson(k, n)[1] > 3 * ALPHA)
            (k, _, n), f = max(v, key=lambda z: z[0][0] / z[0][2])
            lo, hi = wilson(k, n)
            pw = sorted(res[(b, noise, m, R)][1] / res[(b, noise, m, R)][2] for b in bursty)
            print(f"| {m} | {R} | {noise} | {over}/{len(v)} | {ub} | {100 * k / n:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] "
                  f"{f} | {100 * pw[0]:.0f}% / {100 * pw[len(pw) // 2]:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
