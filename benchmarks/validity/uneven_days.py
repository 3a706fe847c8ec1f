"""Stored runs from unevenly many days: does the prediction interval count the days it rests on?

Eight stored runs, each day its own machine factor exp(N(0, sd_day)), the candidate on a new day
(and each run its own 2% factor on top, ``--run-sd``).  Days laid out 1 x 8, 3/3/2, 4/2/2 and
6/1/1 (review64: 6/1/1 with a label per CI job read 3 sessions and gave 2.7% [1.4, 5.2] false
REGRESSED), with two ways to label runs: the default (boot and UTC day, ``baseline.session_id``)
and one ``$GPUSLO_SESSION`` per CI job (every label differs; only the days group them).  Each
replication is decided by ``gate.baseline_input`` + ``gate.compare`` exactly as the plugin calls
them: the A/A candidate (a false REGRESSED) and the +10%-service one (power).

    python -m benchmarks.validity.uneven_days [--reps 400] [--families ...] [--share 0.25]
    python -m benchmarks.validity.uneven_days --normal     # the session interval's df in theory

``--normal``: the session interval (``stats._session_interval``) on normal sessions u = day +
run, the candidate a new run on a new day, for layouts of 8 runs and day/run sd ratios 0-4: the
share of false alarms at nominal 0.5% (the stored path's one-sided alpha) and of a shift of 4
prediction sds caught, for each share of Satterthwaite's df beyond (sessions - 1) kept.
"""
from __future__ import annotations

import math
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats as st

from pytest_gpuslo import gate, stats

from . import current, sim
from ._cli import parser
from .grid import wilson

N = 10_000
P = 0.95
EFFECT = 0.10
LAYOUTS = {"1x8": [1] * 8, "3/3/2": [3, 3, 2], "4/2/2": [4, 2, 2], "6/1/1": [6, 1, 1]}
FAMILIES = ("poi-neardet-c1-r.9", "gamma2-neardet-c1-r.7", "poi-logn-c4-r.8", "onoff-bimodal-c1-r.8")
DAY_SDS = (0.0, 0.02, 0.05)


def cell(args: tuple[str, str, str, float, float, int, int]) -> tuple[tuple[str, str, str, float], dict]:
    """One family x layout x labelling x day sd: counts of (candidate, outcome)."""
    fam_name, layout, labelling, day_sd, run_sd, reps, seed = args
    fam = sim.FAMILIES[fam_name]
    rng = np.random.default_rng(seed)
    sizes = LAYOUTS[layout]
    days = [f"2026-11-{10 + d:02d}" for d, k in enumerate(sizes) for _ in range(k)]
    labels = ([f"job{i}" for i in range(len(days))] if labelling == "per job"
              else [f"boot-{d}" for d in days])
    out: dict = defaultdict(int)
    for _ in range(reps):
        t_full = fam.schedule(rng, sim.total(N))
        day_f = np.exp(rng.normal(0.0, day_sd, len(sizes) + 1))
        f = np.concatenate([np.repeat(day_f[:-1], sizes), [day_f[-1]] * 2])
        f = f * np.exp(rng.normal(0.0, run_sd, f.size)) * np.r_[np.ones(len(days) + 1), 1.0 + EFFECT]
        lat = sim.simulate(fam, t_full, rng, f, N)
        base = gate.baseline_input(list(lat[:-2]), current.spec(P), paired=True, sessions=labels, days=days)
        m = current._measurements
        for eff in (0, 1):
            check = gate.compare(current.spec(P), m(lat[-2 + eff], t_full[-N:]), base, current.POLICY)[0]
            out[(eff, check.outcome)] += 1
    return (fam_name, layout, labelling, day_sd), dict(out)


def normal(reps: int, seed: int) -> None:
    """Size and power of the session interval on normal sessions, per share of the extra df."""
    rng = np.random.default_rng(seed)
    shares = (1.0, 0.5, 0.25, 0.0)
    print(f"# The session interval on normal sessions ({reps} draws a row, nominal 0.5%; "
          f"false alarms / a 4-sd shift caught)\n")
    print("| layout | day sd / run sd | " + " | ".join(f"share {c:g}" for c in shares) + " |")
    print("|---|---|" + "---|" * len(shares))
    for layout in ([6, 1, 1], [3, 3, 2], [4, 4, 1], [5, 2, 1], [2, 2, 2, 2], [2, 1, 1, 1, 1, 1, 1]):
        labels = [str(i) for i, n in enumerate(layout) for _ in range(n)]
        k = len(layout)
        for ratio in (0.0, 1.0, 2.0, 4.0):
            hits, caught = np.zeros(len(shares)), np.zeros(len(shares))
            shift = 4.0 * math.sqrt(1.0 + ratio ** 2)
            for _ in range(reps):
                d = rng.normal(0.0, ratio, k + 1)
                u = np.repeat(d[:-1], layout) + rng.normal(0.0, 1.0, len(labels))
                cand = d[-1] + rng.normal()
                saved = stats.SESSION_DF_SHARE
                stats.SESSION_DF_SHARE = 1.0
                level, sd, df = stats._session_interval(u, labels)
                stats.SESSION_DF_SHARE = saved
                for j, c in enumerate(shares):
                    q = st.t.ppf(0.995, (k - 1) + c * (df - (k - 1)))
                    hits[j] += (cand - level) / sd > q
                    caught[j] += (cand + shift - level) / sd > q
            print(f"| {'/'.join(map(str, layout))} | {ratio:g} | "
                  + " | ".join(f"{h / reps:.2%} / {c / reps:.0%}" for h, c in zip(hits, caught)) + " |")


def main() -> int:
    ap = parser(__doc__, reps=400, seed=2211)
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    ap.add_argument("--run-sd", type=float, default=0.02, help="per-run machine factor sd (default 0.02)")
    ap.add_argument("--day-sds", type=float, nargs="*", default=list(DAY_SDS), help="per-day machine factor sds")
    ap.add_argument("--share", type=float, default=None, help="stats.SESSION_DF_SHARE to use (default: shipped)")
    ap.add_argument("--normal", action="store_true", help="the session interval on normal sessions only")
    a = ap.parse_args()
    if a.normal:
        normal(a.reps * 50, a.seed)
        return 0
    if a.share is not None:
        stats.SESSION_DF_SHARE = a.share  # the workers are forked after this
    jobs = [(fam, lay, lab, sd, a.run_sd, a.reps, a.seed + 7919 * i)
            for i, (fam, lay, lab, sd) in enumerate(
                (f, lay, lab, sd) for f in a.families for lay in LAYOUTS for lab in ("default", "per job")
                for sd in a.day_sds)]
    with ProcessPoolExecutor(a.jobs) as ex:
        results = list(ex.map(cell, jobs))
    print(f"# 8 stored runs over uneven days (n = {N}, p95, alpha 1%, per-run sd {a.run_sd:g}, "
          f"{a.reps} replications a cell, session df share {stats.SESSION_DF_SHARE:g})\n")
    print("| family | days | labels | day sd | A/A REGRESSED | A/A held (INCONCLUSIVE) | +10% REGRESSED |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for (fam, lay, lab, sd), c in results:
        fr = c.get((0, "REGRESSED"), 0)
        lo, hi = wilson(fr, a.reps)
        worst = max(worst, fr / a.reps)
        pw = c.get((1, "REGRESSED"), 0)
        print(f"| {fam} | {lay} | {lab} | {sd:.0%} | {fr / a.reps:.1%} [{lo:.1%}, {hi:.1%}] | "
              f"{c.get((0, 'INCONCLUSIVE'), 0) / a.reps:.0%} | {pw / a.reps:.0%} |")
    print(f"\nworst A/A false REGRESSED: {worst:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
