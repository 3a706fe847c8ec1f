"""The scale of the stored-baseline prediction interval: ln q_p against 1/q_p, measured.

    nice python -m benchmarks.validity.pi_scale [--reps 400] [--seed 20261206] [--jobs 2]

Every cell: 8 stored runs, each from its own day (the plugin's rule for R >= 3 sessions), and a
candidate from a ninth day, A/A and with +10% service time; the schedule is replayed, service drawn
anew per run.  Cells: the grid's 15 families and five near-saturation queues (utilisation 0.9-0.97)
that the grid did not have; machine noise per day: none, Gaussian 2%, Student t3 (0.012 t3),
right-skewed (0.02 (Exp(1) - 1): rare slow days).  The verdicts of the shipped rule come from
``gate.compare`` (the plugin's path); the log-scale rule it replaced is evaluated beside it on the
same run statistics (``_offline``), with the alternatives measured before choosing: a smaller alpha
share on ln q, the Box-Cox scale between, 1/q without the alpha share.  Prints, for R = 8 and 3,
A/A false REGRESSED [Wilson 95%] / +10% caught per cell and rule, then each rule's summary.
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats as st

from benchmarks.validity import _cli, current, plugin_grid, sim
from pytest_gpuslo import gate, stats

N = 10_000
P = 0.95
EFFECT = 0.10
NOISES = ("none", "gauss", "t3", "skew")

#: Queues near saturation, beyond the grid's 0.5-0.9.
NEAR = {
    "M/ND/1 0.93": sim.F("poi-neardet-c1-r.93", "poisson", "neardet", 1, 0.93),
    "M/ND/1 0.97": sim.F("poi-neardet-c1-r.97", "poisson", "neardet", 1, 0.97),
    "M/M/4 0.95": sim.F("poi-exp-c4-r.95", "poisson", "exp", 4, 0.95),
    "M/M/16 0.93": sim.F("poi-exp-c16-r.93", "poisson", "exp", 16, 0.93),
    "on-off/lognormal/2 0.9": sim.F("onoff-logn-c2-r.9", "onoff", "lognormal", 2, 0.9),
}
CELLS = {**{f: fam for f, fam in sim.FAMILIES.items()}, **NEAR}


def _days(rng: np.random.Generator, kind: str, k: int) -> np.ndarray:
    """ln machine factor of k days."""
    if kind == "none":
        return np.zeros(k)
    if kind == "gauss":
        return rng.normal(0.0, 0.02, k)
    if kind == "t3":
        return 0.012 * rng.standard_t(3, k)
    if kind == "skew":
        return 0.02 * (rng.exponential(1.0, k) - 1.0)
    raise ValueError(kind)


def _offline(ts: np.ndarray, tc: float, alpha: float, lam: float) -> bool:
    """REGRESSED by a prediction interval on the Box-Cox scale exp(lam T) (lam = 0: ln q, the
    rule before; -1: 1/q, the shipped one, here as a cross-check of ``gate.compare``; lam > 0 for
    ``replay_scale``'s concave queues, where a regression raises exp(lam T))."""
    r = ts.size
    tq = float(st.t.ppf(1.0 - alpha, r - 1))
    if abs(lam) < 1e-9:
        se = float(ts.std(ddof=1)) * math.sqrt(1.0 + 1.0 / r)
        return bool(tc - ts.mean() - tq * se > math.log1p(0.02))
    v = np.exp(lam * (ts - ts.mean()))
    vc = math.exp(lam * (tc - ts.mean()))
    se = float(v.std(ddof=1)) * math.sqrt(1.0 + 1.0 / r)
    gap = v.mean() - vc * 1.02 ** -lam if lam < 0 else vc * 1.02 ** -lam - v.mean()
    return bool(gap > tq * se)


SHIPPED = "1/q, a/2 (shipped: gate.compare)"
#: (name, lam, alpha share) of the rules compared offline beside the shipped one.
OFFLINE = (("ln q, a/2 (before)", 0.0, 0.5), ("ln q, a/4", 0.0, 0.25), ("Box-Cox -1/2, a/2", -0.5, 0.5),
           ("1/q, a", -1.0, 1.0), ("1/q, a/2 offline", -1.0, 0.5))


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, dict[tuple[str, int, int], int]]:
    name, noise, reps, seed = args
    fam = CELLS[name]
    rng = np.random.default_rng(seed)
    spec = current.spec(P)
    alpha = current.POLICY.alpha
    out: dict[tuple[str, int, int], int] = {}
    for _ in range(reps):
        t_full = fam.schedule(rng, sim.total(N))
        lf = _days(rng, noise, 9)
        fac = np.exp(np.concatenate([lf, lf[8:]])) * np.array([1.0] * 9 + [1.0 + EFFECT])
        lat = sim.fifo(t_full, fam.services(rng, 10, t_full.size) * fac[:, None], fam.c)[:, -N:]
        ts = np.array([stats.run_statistic(x, P) for x in lat])
        for r in (3, 8):
            stored = lat[8 - r:8]
            base = gate.baseline_input(list(stored), spec, paired=True, sessions=[f"day{i}" for i in range(r)])
            for eff in (0, 1):
                m = gate.Measurements(lat[8 + eff], np.zeros(N), scheduled_ms=t_full[-N:], load_dependent=False)
                hit = gate.compare(spec, m, base, current.POLICY)[0].outcome == "REGRESSED"
                out[(SHIPPED, r, eff)] = out.get((SHIPPED, r, eff), 0) + int(hit)
                for rule, lam, share in OFFLINE:
                    h = _offline(ts[8 - r:8], ts[8 + eff], alpha * share, lam)
                    out[(rule, r, eff)] = out.get((rule, r, eff), 0) + int(h)
    print(f"{name} {noise} done", file=sys.stderr, flush=True)
    return name, noise, out


def table(r: int, names: list[str], rules: tuple[str, ...], res: dict[tuple[str, str], dict], reps: int,
          extra: tuple[str, dict[tuple[str, str], str]] | None = None) -> None:
    """Print the R = r table (A/A false REGRESSED [Wilson 95%] / +10% caught per cell and rule, and
    an ``extra`` column (heading, text per cell) after the noise) and each rule's summary: cells over
    1.5 alpha without / with heavy day noise, the worst, the bursty families' median power.  Shared
    with ``replay_scale``."""
    print(f"\n## R = {r} stored runs: A/A false REGRESSED [Wilson 95%] / +10% caught\n")
    head = f" {extra[0]} |" if extra else ""
    print(f"| cell | day noise |{head} " + " | ".join(rules) + " |")
    print("|---|---|" + ("---|" if extra else "") + "---|" * len(rules))
    worst = {rule: (0, "") for rule in rules}
    over: dict[tuple[str, bool], list[str]] = {(rule, heavy): [] for rule in rules for heavy in (False, True)}
    pw: dict[str, list[float]] = {rule: [] for rule in rules}
    for nm in names:
        for nz in NOISES:
            out = res[(nm, nz)]
            row = []
            for rule in rules:
                aa, hit = out.get((rule, r, 0), 0), out.get((rule, r, 1), 0)
                row.append(f"{plugin_grid.pct(aa, reps)} / {100 * hit / reps:.0f}%")
                worst[rule] = max(worst[rule], (aa, f"{nm} {nz}"))
                if aa > 0.015 * reps:
                    over[(rule, nz in ("t3", "skew"))].append(f"{nm} {nz}")
                if nm in sim.FAMILIES and sim.FAMILIES[nm].bursty and nz in ("none", "gauss"):
                    pw[rule].append(hit / reps)
            cell_extra = f" {extra[1][(nm, nz)]} |" if extra else ""
            print(f"| {nm} | {nz} |{cell_extra} " + " | ".join(row) + " |")
    for rule in rules:
        power = f"{100 * float(np.median(pw[rule])):.0f}%" if pw[rule] else "-"
        calm, heavy = over[(rule, False)], over[(rule, True)]
        print(f"\n{rule}, R = {r}: cells over 1.5 alpha: {len(calm)} of {2 * len(names)} without or with Gaussian "
              f"day noise ({', '.join(calm) or 'none'}), {len(heavy)} of {2 * len(names)} with t3 or skewed days; "
              f"worst {plugin_grid.pct(worst[rule][0], reps)} ({worst[rule][1]}); +10% caught on the bursty "
              f"grid families (none, Gaussian) median {power}")


def main() -> int:
    ap = _cli.parser(__doc__, reps=400, seed=20261206)
    ap.add_argument("--cells", default="", help="comma-separated cell names (default: all)")
    a = ap.parse_args()
    names = a.cells.split(",") if a.cells else list(CELLS)
    t0 = time.time()
    jobs = [(nm, nz, a.reps, a.seed + 1000 * i + j) for i, nm in enumerate(names) for j, nz in enumerate(NOISES)]
    with ProcessPoolExecutor(a.jobs) as ex:
        res = {(nm, nz): out for nm, nz, out in ex.map(cell, jobs)}
    rules = (SHIPPED, *(o[0] for o in OFFLINE))
    print(f"# Stored-baseline prediction interval: ln q against 1/q ({a.reps} replications, n = {N:,}, p95, "
          f"alpha 1% x {stats.PI_ALPHA_FACTOR:g}, each stored run and the candidate from its own day, seed {a.seed}, "
          f"{time.time() - t0:.0f} s)\n")
    for r in (8, 3):
        table(r, names, rules, res, a.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
