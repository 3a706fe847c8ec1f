"""How often an unchanged body's mean own time moves past every stored run's (``gate._own_moved``).

    python -m benchmarks.validity.own_mean [--reps 2000] [--seed 7]

Stored runs of one session are held back by the session rule unless the candidate's bodies' own
times (mean, top 0.1% left out) moved by ``gate.OWN_MOVED`` against every stored run.  For each grid
family's service distribution, four runs (three stored, one candidate) each draw their services
anew and a per-day machine factor exp(N(0, 0.02)); the table is the share of draws in which the
candidate's trimmed mean is 1.25x or 1.5x all three stored runs' (a false "the code moved"), and
1.5x the first stored run's alone (why the exception needs three stored runs).
"""

from __future__ import annotations

import sys

import numpy as np

from benchmarks.validity import _cli, sim


def trimmed_mean(x: np.ndarray) -> float:
    return float(x[x <= np.quantile(x, 0.999)].mean())


def main() -> int:
    a = _cli.parser(__doc__, reps=2000, seed=7).parse_args()
    rng = np.random.default_rng(a.seed)
    print(f"# An unchanged body's mean own time past three stored runs' ({a.reps} draws a cell, day factor sd 2%)\n")
    print("| family | n | 1.25x three | 1.5x three | 1.5x one |")
    print("|---|---|---|---|---|")
    for name, fam in sim.FAMILIES.items():
        for n in (300, 600, 4000):
            over = {1.25: 0, 1.5: 0}
            one = 0
            for _ in range(a.reps):
                f = np.exp(rng.normal(0.0, 0.02, 4))
                m = [trimmed_mean(fam.services(rng, 1, n)[0] * f[k]) for k in range(4)]
                for k in over:
                    over[k] += m[3] >= k * max(m[:3])
                one += m[3] >= 1.5 * m[0]
            print(f"| {name} | {n} | {over[1.25] / a.reps:.2%} | {over[1.5] / a.reps:.2%} | {one / a.reps:.2%} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
