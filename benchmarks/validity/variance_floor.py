"""The most any test can gain from a variance measured inside the runs, at a fixed number of runs.

    python -m benchmarks.validity.variance_floor [--cells results/df_limit.md]

A variance of the run level from inside each run (a bootstrap of its service times through the
replay) would have many degrees of freedom, but it sees only the spread the run's own services
cause.  A per-run machine factor, or a bootstrap that under-reads a heavy tail, adds a spread it
cannot see, so all it gives is a *floor*: the run-level variance is sigma^2 = v_w (1 + rho) with v_w
known and rho >= 0 unknown.  A test that keeps alpha must keep it for every rho.

The data are theta (the candidate's level minus the base's, less the 2% margin) and s^2 (the runs'
spread, nu degrees of freedom: 4 for A/B 3+3, 7 for 8 stored runs and one candidate run), in units
where theta's variance is 1 + rho when v_w is exact: theta ~ N(mu, 1 + rho), s^2 ~ (1 + rho)
chi2_nu / nu, independent.  The linear programme below finds the most powerful test of any shape
(a rejection probability on a fine grid of (theta, s^2)) at rho = 0 whose size is at most alpha on a
grid of rho in [0, 3000]: an upper bound on what any rule gains from the floor, since size is
asked only on the grid.  mu per cell is the T* row of ``results/df_limit.md`` (the four hardest
bursty cells: shift and run sd measured over 200 schedules of 12 runs).  Printed: the t test (what
ships), the bound, and the oracle that knows sigma (z).

The second table asks the same of the stored path with a day's shift (sd s_d >= 0, unknown) shared
by the runs of a day: D stored days of ``per`` runs each, the candidate's ``m`` runs on a new day.
theta ~ N(mu, s_r^2 (1/m + 1/(per D)) + s_d^2 (1 + 1/D)); the day means' spread ~ (s_d^2 +
s_r^2/per) chi2_{D-1} / (D - 1).  The runs' own variance s_r^2 is taken as *known* (optimistic: the
plugin would estimate it), so the bound is what repeating the candidate, or recording more runs a
day, could buy at best while keeping alpha for every day shift; the oracle column knows s_d = 0.
"""

from __future__ import annotations

import argparse
import math
import pathlib
import re

import numpy as np
from scipy import stats as st
from scipy.optimize import linprog

HERE = pathlib.Path(__file__).parent
MARGIN = math.log1p(0.02)
#: (what, runs-level df, one-sided alpha, theta's variance in run variances)
DESIGNS = (("A/B 3+3", 4, 0.01, 2.0 / 3.0), ("8 stored + 1", 7, 0.005, 1.0 + 1.0 / 8.0))


def bound(nu: int, alpha: float, mu: float, nz: int = 600, nr: int = 160) -> float:
    """The largest power at rho = 0 of a test whose size is <= alpha for every rho on the grid."""
    ze = np.linspace(-8.0, 16.0, nz + 1)
    re_ = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, nr - 1), [np.inf]])
    rhos = np.concatenate([[0.0], np.geomspace(0.01, 3e3, 80)])

    def cells(rho: float, m: float) -> np.ndarray:
        pz = np.diff(st.norm.cdf(ze, m, math.sqrt(1.0 + rho)))
        pr = np.diff(st.chi2.cdf(re_ * nu / (1.0 + rho), nu))
        return np.outer(pz, pr).ravel()

    a = np.array([cells(r, 0.0) for r in rhos])
    res = linprog(-cells(0.0, mu), A_ub=a, b_ub=np.full(rhos.size, alpha), bounds=(0, 1), method="highs")
    return float(-res.fun)


def day_bound(days: int, per: int, m: int, alpha: float, mu: float, nz: int = 500, nr: int = 140) -> float:
    """``bound`` for the stored path with a day's shift (module docstring); mu in run sds (s_r = 1)."""
    vw, nu = 1.0 / m + 1.0 / (per * days), days - 1
    ze = np.linspace(-10.0, 20.0, nz + 1)
    re_ = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, nr - 1), [np.inf]])
    sd2s = np.concatenate([[0.0], np.geomspace(0.005, 3e3, 80)])

    def cells(sd2: float, m_: float) -> np.ndarray:
        pz = np.diff(st.norm.cdf(ze, m_, math.sqrt(vw + sd2 * (1.0 + 1.0 / days))))
        pr = np.diff(st.chi2.cdf(re_ * nu / (sd2 + 1.0 / per), nu))
        return np.outer(pz, pr).ravel()

    a = np.array([cells(v, 0.0) for v in sd2s])
    res = linprog(-cells(0.0, mu), A_ub=a, b_ub=np.full(sd2s.size, alpha), bounds=(0, 1), method="highs")
    return float(-res.fun)


#: (stored days, runs a day, candidate runs): R = 8 as the issue asks, with repeats, and twice the runs.
DAY_DESIGNS = ((8, 1, 1), (8, 1, 3), (4, 2, 3), (8, 2, 3))


def hardest(path: pathlib.Path) -> list[tuple[str, float, float]]:
    """(cell, run sd, +10% shift) of T* for the four cells whose A/B t power is lowest."""
    rows = []
    for line in path.read_text().splitlines():
        m = re.match(r"\| (\S+) \| T\* \| ([\d.]+) \| \+([\d.]+) \| (\d+)%", line)
        if m:
            rows.append((int(m.group(4)), m.group(1), float(m.group(2)), float(m.group(3))))
    return [(c, sd, sh) for _, c, sd, sh in sorted(rows)[:4]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=pathlib.Path, default=HERE / "results" / "df_limit.md")
    a = ap.parse_args()
    print("| cell | design | mu | t test (ships) | best test with the floor | sd known (oracle) |")
    print("|---|---|---|---|---|---|")
    for cell, sd, shift in hardest(a.cells):
        for what, nu, alpha, var in DESIGNS:
            mu = (shift - MARGIN) / (sd * math.sqrt(var))
            t = float(st.nct.sf(st.t.ppf(1 - alpha, nu), nu, mu))
            z = float(st.norm.sf(st.norm.ppf(1 - alpha) - mu))
            print(f"| {cell} | {what} | {mu:.2f} | {t:.0%} | {bound(nu, alpha, mu):.0%} | {z:.0%} |", flush=True)
    print()
    print("| cell | stored runs | candidate runs | best test, any day shift | no day shift (oracle) |")
    print("|---|---|---|---|---|")
    for cell, sd, shift in hardest(a.cells):
        mu = (shift - MARGIN) / sd
        for days, per, m in DAY_DESIGNS:
            z = float(st.norm.sf(st.norm.ppf(0.995) - mu / math.sqrt(1.0 / m + 1.0 / (per * days))))
            print(f"| {cell} | {days} days x {per} | {m} | {day_bound(days, per, m, 0.005, mu):.0%} | {z:.0%} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
