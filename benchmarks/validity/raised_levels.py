"""A baseline claim at a percentile among the raised requests is not compared: does it hide anything?

Through ``gate.decide`` with three stored runs from three sessions (no request raised in them), a
candidate whose bodies raise for a share of its requests at random.  Per share: how often the test
FAILs (its budget counts raised requests over budget), how often the baseline claim is "raised: not
compared" (``gate._raised_levels``), and how often the claim as ``gate.compare`` made it before
the rule said REGRESSED (a number from the timeout stand-in): the shipped rule says REGRESSED, in
words, wherever this run's percentile is among its raised requests and the stored runs raised none,
whatever the comparison made of it, and takes the number from a level the raised requests lifted.  Services: a FIFO queue on 4 lanes at
utilisation 0.7, lognormal(sigma=1) services, p95 budget 5x the true p95.  A test that loses its
baseline claim's number still FAILs as often: the rule only takes the number away.

    python -m benchmarks.validity.raised_levels --reps 200   # results/raised_levels.md
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, sim
from pytest_gpuslo import gate
from pytest_gpuslo.gate import Measurements
from pytest_gpuslo.spec import resolve, validate_marker

#: (share, where): at random over the run, or the run's first requests (review104: 200 raised at
#: the start of a run read "not compared" and the test passed, where as many at random FAILed).
SHARES = ((0.0, "random"), (0.01, "random"), (0.03, "random"), (0.055, "random"), (0.10, "random"),
          (0.60, "random"), (0.05, "first"), (0.03, "first"))
N = 4000


def _run(rng: np.random.Generator, arrivals: np.ndarray) -> np.ndarray:
    """One run's latencies (ms): arrivals 1 ms apart on average, 4 lanes at utilisation 0.7."""
    service = rng.lognormal(0.0, 1.0, arrivals.size)
    return sim.fifo(arrivals, service * (0.7 * 4 / np.exp(0.5)), 4)


def cell(job: tuple[tuple[float, str], int, int, int]) -> tuple[str, int, dict[str, int]]:
    (share, where), n, reps, seed = job
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0, n))
    true_p95 = float(np.quantile(np.concatenate([_run(rng, arrivals) for _ in range(20)]), 0.95))
    spec = resolve(validate_marker((), {"rate_hz": 1000, "p95_ms": 5 * true_p95}, "t"), nodeid="t")
    counts = {"fail": 0, "pass": 0, "raised": 0, "regressed_before": 0, "regressed": 0}
    for _ in range(reps):
        stored = gate.baseline_input([_run(rng, arrivals) for _ in range(3)], spec, paired=True,
                                     sessions=["a", "b", "c"])
        lat = _run(rng, arrivals)
        raised = rng.random(n) < share if where == "random" else np.arange(n) < round(share * n)
        lat = np.where(raised, 1000.0 * spec.timeout_s, lat)
        m = Measurements(lat, np.zeros(n), failed=int(raised.sum()))
        v = gate.decide(spec, m, baseline=stored)
        counts["fail"] += v.outcome == gate.FAIL
        counts["pass"] += v.outcome == gate.PASS
        counts["raised"] += any(b.raised for b in v.baseline)
        counts["regressed"] += any(b.outcome == "REGRESSED" for b in v.baseline)
        counts["regressed_before"] += any(b.outcome == "REGRESSED" for b in gate.compare(spec, m, stored, gate.Policy()))
    return f"raised {share:.1%}" + (", the first requests" if where == "first" else ""), n, counts


def main() -> None:
    ap = _cli.parser(__doc__, reps=200, seed=20261205)
    args = ap.parse_args()
    print(f"# Raised requests against a stored baseline ({args.reps} replications per row, n = {N}, p95)\n")
    pct = lambda c, k: f"{100 * c[k] / args.reps:.1f}%"  # noqa: E731
    with ProcessPoolExecutor(args.jobs) as ex:
        _cli.table(ex, cell, SHARES, [N], args.reps, args.seed, 7919,
                   ["test FAIL", "test PASS", "claim said 'raised' (no number)", "claim REGRESSED as compare made it",
                    "claim REGRESSED as shipped"],
                   lambda c: [pct(c, "fail"), pct(c, "pass"), pct(c, "raised"), pct(c, "regressed_before"), pct(c, "regressed")])


if __name__ == "__main__":
    main()
