"""A body that got slow: the slow-stretch rule (``stats.slow_stretch`` through ``gate.decide``).

    nice python -m benchmarks.validity.slow_stretch [--reps 400] [--seed 5151] [--jobs 2]

Every verdict here is ``gate.decide`` on ``gate.Measurements`` holding the latencies and the
requests' own times (``own_ms``), as the plugin builds them.  Three tables:

1. **The grid at its boundary** (false FAIL): every grid family at n = 600, 1,000 and 4,000, the
   budget at the run-averaged true p95; the own times are the simulated service times (a FIFO lane
   adds no queue to them).  FAILs with the own times against the same runs without them.
2. **The rule's assumption** (false FAIL): own times with slow spells, a two-state chain that is
   slow (2 x the budget) 5% of the time (the p95 is the budget) in spells of mean length L; no queue.
   The rule assumes spells shorter than its blocks (n / 28 requests); this says how far it holds.
3. **Power**: a body at 1/20 of the budget that steps to 2 x the budget for the last f of the run,
   on 8 FIFO lanes at 20/s (review55's shape), with and without the rule.
4. **Warm-ups and spells** (``stats.warm_up_end``, review57): own times over the budget (2 x) with
   a chance that falls over the run (a cold start, sharp or gradual), or in spells after a fast
   stretch; same lanes.  A warm-up must not FAIL, and the requests it advises must leave a steady
   state within the allowance (the true share over the budget after them); spells must FAIL.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.validity import _cli, grid, plugin_grid, sim
from pytest_gpuslo import gate
from pytest_gpuslo.spec import SloSpec

ALPHA = 0.01
SIZES = (600, 1000, 4000)


def verdict(lat: np.ndarray, own: np.ndarray | None, budget: float, p: float) -> tuple[bool, bool]:
    """(FAIL, FAIL by the slow-stretch rule) for one run, as the plugin decides it."""
    n = lat.size
    m = gate.Measurements(latency_ms=lat, lag_ms=np.zeros(n), achieved_hz=1.0, offered_hz=1.0, own_ms=own,
                          own_asleep_ms=None if own is None else np.zeros(n))
    v = gate.decide(SloSpec(budgets_ms={p: budget}, rate_hz=1.0, requests=n), m, gate.Policy(alpha=ALPHA))
    c = v.checks[0]
    return c.outcome == "FAIL", c.outcome == "FAIL" and c.reason.startswith("the bodies themselves")


def grid_cell(args: tuple[str, int, int, int]) -> tuple[str, int, int, int, int]:
    name, n, reps, seed = args
    fam = sim.FAMILIES[name]
    q = grid.truth(fam, n, 200, seed + 7, (0.95,))[0.95]
    rng = np.random.default_rng(seed)
    with_own = by_rule = without = 0
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(n))
        s = fam.services(rng, 1, t.size)
        lat = sim.fifo(t, s, fam.c)[0, t.size - n:]
        own = s[0, t.size - n:]
        f, r = verdict(lat, own, q, 0.95)
        with_own += f
        by_rule += r
        without += verdict(lat, None, q, 0.95)[0]
    return name, n, with_own, by_rule, without


def spells(rng: np.random.Generator, n: int, mean_len: float, pi: float, budget: float) -> np.ndarray:
    """Own times: 2 x ``budget`` in slow spells (stationary share ``pi``, mean length ``mean_len``),
    budget / 20 otherwise."""
    leave = 1.0 / mean_len
    enter = leave * pi / (1.0 - pi)
    u = rng.random(n)
    slow = np.empty(n, dtype=bool)
    cur = bool(rng.random() < pi)
    for i in range(n):
        slow[i] = cur
        cur = bool(u[i] >= leave) if cur else bool(u[i] < enter)
    return np.where(slow, 2.0 * budget, budget / 20.0)


def spell_cell(args: tuple[int, float, float, int, int]) -> tuple[int, float, float, int, int]:
    n, p, mean_len, reps, seed = args
    rng = np.random.default_rng(seed)
    fails = by_rule = 0
    for _ in range(reps):
        own = spells(rng, n, mean_len, 1.0 - p, 100.0)
        f, r = verdict(own.copy(), own, 100.0, p)
        fails += f
        by_rule += r
    return n, p, mean_len, fails, by_rule


def power_cell(args: tuple[int, float, int, int]) -> tuple[int, float, int, int, int]:
    n, frac, reps, seed = args
    rng = np.random.default_rng(seed)
    budget = 100.0
    hit = by_rule = without = 0
    for _ in range(reps):
        t = sim.poisson(rng, n, 20.0 / 1000.0)
        own = np.where(np.arange(n) >= n * (1.0 - frac), 2.0 * budget, budget / 20.0) * rng.lognormal(0, 0.05, n)
        lat = sim.fifo(t, own[None, :], 8)[0]
        f, r = verdict(lat, own, budget, 0.95)
        hit += f
        by_rule += r
        without += verdict(lat, None, budget, 0.95)[0]
    return n, frac, hit, by_rule, without


#: Table 4's shapes: each request's chance of an own time over the budget (2 x it), by position
#: u in [0, 1) of the run, and whether a FAIL is right.
SHAPES: dict[str, tuple[object, bool]] = {
    "cold to 45%": (lambda u: np.where(u < 0.45, 1.0, 0.0), False),
    "cold to 78%": (lambda u: np.where(u < 0.78, 1.0, 0.0), False),
    "60% over to 60%, then 4%": (lambda u: np.where(u < 0.6, 0.6, 0.04), False),
    "60% falling to 2% at 80%": (lambda u: np.where(u < 0.8, np.maximum(0.6 * (1 - u / 0.8), 0.02), 0.02), False),
    "100% to 30%, falling to 2% at 80%": (lambda u: np.where(u < 0.3, 1.0, np.maximum((0.8 - u) / 0.5, 0.02)), False),
    "cold to 50%, then 9% to the end": (lambda u: np.where(u < 0.5, 1.0, 0.09), True),
    "slow 0-5% and 20-70%": (lambda u: np.where((u < 0.05) | ((u >= 0.2) & (u < 0.7)), 1.0, 0.0), True),
    "slow 0-20% and 40-65%": (lambda u: np.where((u < 0.2) | ((u >= 0.4) & (u < 0.65)), 1.0, 0.0), True),
}


def shape_cell(args: tuple[str, int, int, int]) -> tuple[str, int, int, int, float, float]:
    """(shape, n, FAILs, warm-ups named, median advised end / n, mean true share over after it)."""
    import re

    name, n, reps, seed = args
    chance = SHAPES[name][0]
    rng = np.random.default_rng(seed)
    budget = 100.0
    u = np.arange(n) / n
    rate = chance(u)  # type: ignore[operator]
    fails = warm = 0
    ends: list[int] = []
    after: list[float] = []
    for _ in range(reps):
        t = sim.poisson(rng, n, 20.0 / 1000.0)
        own = np.where(rng.random(n) < rate, 2.0 * budget, budget / 20.0) * rng.lognormal(0, 0.05, n)
        lat = sim.fifo(t, own[None, :], 8)[0]
        m = gate.Measurements(latency_ms=lat, lag_ms=np.zeros(n), achieved_hz=1.0, offered_hz=1.0, own_ms=own,
                              own_asleep_ms=np.zeros(n))
        c = gate.decide(SloSpec(budgets_ms={0.95: budget}, rate_hz=1.0, requests=n), m, gate.Policy(alpha=ALPHA)).checks[0]
        fails += c.outcome == "FAIL"
        hit = re.search(r"raise warmup_requests by about (\d+)", c.reason)
        if hit:
            warm += 1
            end = int(hit.group(1))
            ends.append(end)
            after.append(float(rate[end:].mean()) if end < n else float("nan"))
    return (name, n, fails, warm, float(np.median(ends)) / n if ends else float("nan"),
            float(np.mean(after)) if after else float("nan"))


def main() -> int:
    a = _cli.parser(__doc__, reps=400, seed=5151).parse_args()
    pct = plugin_grid.pct
    with ProcessPoolExecutor(a.jobs) as ex:
        print(f"# A body that got slow: the slow-stretch rule ({a.reps} replications, alpha 1%, seed {a.seed})\n")
        print("## 1. The grid at its boundary (true p95 = budget): false FAIL\n")
        print("| family | n | with own times | by the rule | without own times |")
        print("|---|---|---|---|---|")
        jobs = [(f, n, a.reps, a.seed + 97 * i + n) for i, f in enumerate(sim.FAMILIES) for n in SIZES]
        for name, n, w, r, wo in ex.map(grid_cell, jobs):
            print(f"| {name} | {n} | {pct(w, a.reps)} | {pct(r, a.reps)} | {pct(wo, a.reps)} |", flush=True)
        print("\n## 2. Own times with slow spells, 5% of the time at 2 x the budget: false FAIL\n")
        print("| n | claim | mean spell (requests) | spell / block | FAIL | by the rule |")
        print("|---|---|---|---|---|---|")
        jobs2 = [(n, p, L, a.reps, a.seed + 13 * i)
                 for i, (n, p, L) in enumerate((n, p, L) for n in (600, 4000) for p in (0.95, 0.99)
                                               for L in (1, 5, 20, 50, 100, 200))]
        for n, p, L, f, r in ex.map(spell_cell, jobs2):
            block = n // min(28, n // 10)
            print(f"| {n} | p{100 * p:g} | {L:g} | {L / block:.2g} | {pct(f, a.reps)} | {pct(r, a.reps)} |", flush=True)
        print("\n## 3. Power: 2 x the budget for the last part of the run (8 lanes, 20/s, p95)\n")
        print("| n | slow share | FAIL | by the rule | FAIL without own times |")
        print("|---|---|---|---|---|")
        jobs3 = [(n, f, a.reps, a.seed + 31 * i)
                 for i, (n, f) in enumerate((n, f) for n in (300, 600, 4000) for f in (0.2, 0.3, 0.35, 0.4, 0.5, 0.8))]
        for n, f, h, r, wo in ex.map(power_cell, jobs3):
            print(f"| {n} | {f:.0%} | {pct(h, a.reps)} | {pct(r, a.reps)} | {pct(wo, a.reps)} |", flush=True)
        print("\n## 4. Warm-ups and slow spells (8 lanes, 20/s, p95; own times over the budget are 2 x it)\n")
        print("| shape | n | FAIL right | FAIL | warm-up named | advised end (median, of n) | "
              "true share over after it |")
        print("|---|---|---|---|---|---|---|")
        jobs4 = [(name, n, a.reps, a.seed + 41 * i) for i, (name, n) in
                 enumerate((name, n) for name in SHAPES for n in (600, 4000))]
        for name, n, f, w, e, aft in ex.map(shape_cell, jobs4):
            print(f"| {name} | {n} | {'yes' if SHAPES[name][1] else 'no'} | {pct(f, a.reps)} | {pct(w, a.reps)} | "
                  f"{e:.0%} | {aft:.1%} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
