"""Bodies on the launching thread (the CUDA backend): false FAIL and power of the absolute budget.

    nice python -m benchmarks.validity.launcher_grid              # ~5 min on 2 cores
    python -m benchmarks.validity.launcher_grid --reps 20         # a smoke run

On a backend that runs bodies on the dispatcher's thread, each body keeps the thread for its own
host time (eager launches); where that host time at the offered rate approaches the thread's
capacity the requests queue on the launcher itself, which is the code's cost.  A stall of the
thread (a GC pause, a neighbour) or preemptions lifting some bodies' host time are not.

Each replication draws a schedule (Poisson or bursty gamma cv 2 arrivals, 200/s, n = 4,000) and
simulates the launcher (dispatch_i = max(t_i, dispatch_prev + hold_prev)) and two CUDA-like
streams (request i on stream i mod 2, FIFO, lognormal service of mean 2 ms).  A body's host time
is H (its share H x rate of the thread: 0.3 to 1.1) times a lognormal of cv 0 or 0.5.  Noise, the
machine's: a 20 ms stall of the thread once per 100 requests, preemptions adding 30% to every
other body, or both.  The truth: the p95 of the same workload with no noise (pooled over
``--ref-runs`` runs of the same length).  Budget 5% over the truth: a FAIL is false; 1.25x or
2x under it: a FAIL is power, shown beside the power on runs without noise (the absolute test's
own limit: a queue near saturation leaves few effective samples).  Every run goes through ``gate.decide`` with ``Measurements`` as the plugin
builds them on an inline backend (``timeline.start_delay``, ``launcher_hold``, ``stall_delay``).
"old": the rule before it (no ``stall_delay_ms``: a FAIL had to hold from the dispatch).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity.plugin_grid import pct
from pytest_gpuslo import gate
from pytest_gpuslo.spec import resolve
from pytest_gpuslo.timeline import launcher_hold, stall_delay, start_delay

N = 4000
RATE = 200.0
LANES = 2
SERVICE_MS = 2.0
SHARES = (0.3, 0.6, 0.85, 0.95, 1.1)
CVS = (0.0, 0.5)
NOISES = ("stalls", "preempt", "both")
ARRIVALS = ("poisson", "gamma-cv2")


def schedule(kind: str, rng: np.random.Generator) -> np.ndarray:
    mean = 1e9 / RATE
    gaps = rng.exponential(mean, N) if kind == "poisson" else rng.gamma(0.25, 4 * mean, N)
    return np.cumsum(gaps).astype(np.int64)


def simulate(t: np.ndarray, hold: np.ndarray, svc: np.ndarray) -> tuple[np.ndarray, ...]:
    """Dispatch, start, end and lane of each request: the launcher, then FIFO streams in turn."""
    d = np.empty_like(t)
    s = np.empty_like(t)
    e = np.empty_like(t)
    free = [0] * LANES
    prev = -(10**18)
    for i in range(t.size):
        d[i] = max(int(t[i]), prev)
        prev = int(d[i] + hold[i])
        k = i % LANES
        s[i] = max(int(d[i]), free[k])
        e[i] = s[i] + int(svc[i])
        free[k] = int(e[i])
    return d, s, e, np.arange(t.size) % LANES


def draw(kind: str, share: float, cv: float, noise: str | None, rng: np.random.Generator
         ) -> tuple[np.ndarray, ...]:
    t = schedule(kind, rng)
    host = share / RATE * 1e9 * (rng.lognormal(-0.5 * np.log1p(cv**2), np.sqrt(np.log1p(cv**2)), N) if cv else 1.0)
    host = np.broadcast_to(host, (N,)).astype(np.float64)
    extra = np.zeros(N)
    if noise in ("stalls", "both"):
        extra[rng.random(N) < 0.01] += 20e6
    if noise in ("preempt", "both"):
        extra += np.where(rng.random(N) < 0.5, 0.3 * host, 0.0)
    svc = rng.lognormal(np.log(SERVICE_MS * 1e6) - 0.125, 0.5, N)
    return (t, *simulate(t, host + extra, svc))


def measurements(t: np.ndarray, d: np.ndarray, s: np.ndarray, e: np.ndarray, lane: np.ndarray,
                 new: bool) -> gate.Measurements:
    return gate.Measurements(
        (e - t) / 1e6, (d - t) / 1e6, start_delay_ms=start_delay(t, d, s, e, lane) / 1e6,
        offered_hz=RATE, achieved_hz=RATE, scheduled_ms=t / 1e6, load_dependent=False,
        launcher_hold_ms=launcher_hold(t, d) / 1e6,
        stall_delay_ms=stall_delay(t, d, s, e, lane) / 1e6 if new else None)


def cell(args: tuple[str, float, float, str, int, int, int]) -> tuple[tuple[str, float, float, str], Counter]:
    kind, share, cv, noise, reps, ref_runs, seed = args
    rng = np.random.default_rng(seed)
    ref = np.concatenate([(lambda r: (r[3] - r[0]) / 1e6)(draw(kind, share, cv, None, rng)) for _ in range(ref_runs)])
    truth = float(np.quantile(ref, 0.95))
    out: Counter = Counter()
    for _ in range(reps):
        run = draw(kind, share, cv, noise, rng)
        clean = draw(kind, share, cv, None, rng)
        for label, budget in (("null", 1.05 * truth), ("1.25", truth / 1.25), ("2", truth / 2)):
            spec = resolve({"p95_ms": budget, "rate_hz": RATE, "requests": N, "timeout_s": 1e4}, nodeid="grid")
            for rule, r in (("old", run), ("new", run), ("clean", clean)):
                if label == "null" and rule == "clean":
                    continue
                v = gate.decide(spec, measurements(*r, new=rule != "old"))
                out[(label, rule, v.checks[0].outcome)] += 1
    return (kind, share, cv, noise), out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--ref-runs", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    cells = [(k, sh, cv, nz, a.reps, a.ref_runs, 1000 + j)
             for j, (k, sh, cv, nz) in enumerate(itertools.product(ARRIVALS, SHARES, CVS, NOISES))]
    t0 = time.time()
    print(f"n = {N}, {RATE:g}/s, {LANES} streams, lognormal service mean {SERVICE_MS:g} ms, {a.reps} runs a cell, "
          f"alpha 0.01; FAIL % [Wilson 95%], old rule / new rule\n")
    print("| arrivals | host share | host cv | noise | false FAIL, budget 1.05 truth: old / new "
          "| power, budget truth/1.25: no machine noise / old / new | power, budget truth/2: no machine noise / old / new |")
    print("|---|---|---|---|---|---|---|")
    worst = 0
    with ProcessPoolExecutor(a.workers) as pool:
        for (kind, share, cv, noise), o in pool.map(cell, cells):
            r = a.reps
            worst = max(worst, o[("null", "new", "FAIL")])
            power = [" / ".join(f"{100 * o[(lv, rule, 'FAIL')] / r:.0f}%" for rule in ("clean", "old", "new"))
                     for lv in ("1.25", "2")]
            print(f"| {kind} | {share:g} | {cv:g} | {noise} | {pct(o[('null', 'old', 'FAIL')], r)} / "
                  f"{pct(o[('null', 'new', 'FAIL')], r)} | {power[0]} | {power[1]} |", flush=True)
    print(f"\nworst false FAIL (new rule): {worst}/{a.reps}; {time.time() - t0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
