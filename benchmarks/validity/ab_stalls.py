"""`gpuslo ab` with a late generator: the requests no lateness reached (``gate.untouched``) against
the rule before it (both readings, as measured and without the lateness, must agree).

    nice python -m benchmarks.validity.ab_stalls [--reps 200] [--seed 6262] [--jobs 2] [--families a,b]

Each replication draws one schedule of a grid family and six runs of it (3 base, 3 candidate,
interleaved: fresh service draws each), decided as ``ab._judged`` builds it: ``gate.ABInput`` with
both sides' ``from_dispatch`` wherever any run was late, ``gate.decide``.  Stalls of the load
generator (a request due inside one goes out when it ends), by scenario:

* ``one``: a single stall of 1 x the true p95 in one run of the six, drawn at random (session 20's
  GPU case: one 5.5-ms stall in one base run);
* ``one long``: the same, 5 x the p95;
* ``cand``: a stall of 0.25 p95 every 400 mean gaps in every candidate run (``stall_grid``'s first level);
* ``all``: a stall of 1 p95 every 400 mean gaps in every run on both sides;
* ``one huge``: a single stall of 15% of the measured stretch in one run of the six (review142 F3:
  one base run 384 ms at p95 against 3.3-3.6 ms), which reaches too many requests to leave out of
  every run, so ``gate.set_aside`` takes the run out ("before": kept);
* ``one busy``: every run a little late (each dispatch after an exponential delay of 0.5% of the p95
  on average), and one run of the six beside busy neighbours (review152 F2, hypervisor steal in one
  base run): 5x that delay, its services 1.3x, and its neighbours measured busy, so that
  ``gate.CONTENDED_OUTLIER`` sets it aside ("before": the 10x rule alone).

Effect 0 (A/A: a REGRESSED is false) and +10% service on the candidate (power; ``--effect``).  "before": the same
runs with ``gate.untouched`` switched off (with ``gate.set_aside`` for ``one huge``).
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from benchmarks.validity import _cli, current, grid, sim
from benchmarks.validity.plugin_grid import pct
from benchmarks.validity.stall_grid import run, stalled
from pytest_gpuslo import gate
from pytest_gpuslo.spec import resolve

N = 5_000
P = 0.95
EFFECT = 0.10
PERIOD = 400
SCENARIOS = ("one", "one long", "cand", "all", "one huge", "one busy")
#: "one busy": the mean dispatch delay of every run, and of the busy one, as shares of the p95, and
#: the busy run's service factor.
JITTER, BUSY_JITTER, BUSY_SERVICE = 0.005, 0.025, 1.3


def dispatch(t: np.ndarray, scenario: str, k: int, hit: int, q: float, rng: np.random.Generator) -> np.ndarray:
    """Run ``k``'s dispatch times (0-2 base, 3-5 candidate); ``hit``: the run a single stall strikes."""
    gap = float(np.mean(np.diff(t)))
    if scenario == "one busy":
        late = t + rng.exponential((BUSY_JITTER if k == hit else JITTER) * q, t.size)
        return np.maximum.accumulate(late)
    if scenario in ("one", "one long", "one huge"):
        if k != hit:
            return t
        return _one_stall(t, 0.15 * N * gap if scenario == "one huge" else q * (1.0 if scenario == "one" else 5.0), rng)
    if scenario == "cand":
        return stalled(t, PERIOD * gap, 0.25 * q, rng) if k >= 3 else t
    return stalled(t, PERIOD * gap, q, rng)


def _one_stall(t: np.ndarray, length: float, rng: np.random.Generator) -> np.ndarray:
    """One stall of ``length`` ms at a random time in the measured part of the run."""
    low = float(t[t.size - N])
    begin = float(rng.uniform(low, max(low, float(t[-1]) - length)))
    inside = (t >= begin) & (t < begin + length)
    return np.where(inside, begin + length, t)


def ab_input(spec: gate.SloSpec, runs: list[tuple[np.ndarray, gate.Measurements, gate.Measurements]],
             policy: gate.Policy) -> tuple[gate.ABInput, bool]:
    """The A/B input of six runs (3 base, 3 candidate) as ``ab._judged`` builds it, and whether any
    run was late."""
    base, cand = runs[:3], runs[3:]
    notes = [(k, gate.lateness(spec, c[1], policy)) for k, c in enumerate(cand, 1)]
    late = next((f"candidate run {k} of 3: {x}" for k, x in notes if x), "")
    either = bool(late) or any(gate.lateness(spec, b[1], policy) for b in base)
    behind = gate.stalls(spec, [r[1] for r in runs], policy)
    ab = gate.ABInput(tuple(b[0] for b in base), tuple(c[0] for c in cand), late=late,
                      base_behind=tuple(behind[:3]), cand_behind=tuple(behind[3:]),
                      cand_from_dispatch=tuple(gate.from_dispatch(c[1]) for c in cand) if either else (),
                      base_from_dispatch=tuple(gate.from_dispatch(b[1]) for b in base) if either else ())
    return ab, either


def judged(spec: gate.SloSpec, runs: list[tuple[np.ndarray, gate.Measurements, gate.Measurements]],
           policy: gate.Policy) -> str:
    """The A/B claim's outcome, as ``ab._judged`` decides it."""
    return gate.decide(spec, runs[-1][1], policy, ab_input(spec, runs, policy)[0]).baseline[0].outcome


def cell(args: tuple[str, str, int, int, float]) -> tuple[str, str, dict]:
    fam_name, scenario, reps, seed, effect = args
    fam = sim.FAMILIES[fam_name]
    q = grid.truth(fam, N, 100, seed + 7, (P,))[P]
    spec = resolve({"p95_ms": float(1.05 * q), "rate_hz": 100.0, "timeout_s": max(10.0, q / 100)},
                   nodeid="validity::ab_stalls")
    policy = current.POLICY
    rng = np.random.default_rng(seed)
    out: dict = defaultdict(int)
    shipped, aside, contended = gate.untouched, gate.set_aside, gate.CONTENDED_OUTLIER
    for _ in range(reps):
        t = fam.schedule(rng, sim.total(N))
        hit = int(rng.integers(0, 6))
        ds = [dispatch(t, scenario, k, hit, q, rng) for k in range(6)]
        busy = scenario == "one busy"
        for eff in (0, 1):
            runs = [run(fam, t, ds[k], fam.services(rng, 1, t.size)[0] * (1 + effect * eff * (k >= 3))
                        * (BUSY_SERVICE if busy and k == hit else 1.0), N) for k in range(6)]
            if busy:
                lat, m_new, m_old = runs[hit]
                runs[hit] = (lat, replace(m_new, contention="other processes kept 1.0 of 2 CPUs busy"), m_old)
            out[("now", eff, judged(spec, runs, policy))] += 1
            # the rule before: no run set aside, and (but for "one huge") no requests left out;
            # for "one busy", the 10x rule alone
            if busy:
                gate.CONTENDED_OUTLIER = math.inf  # type: ignore[misc]
            else:
                gate.set_aside = lambda ab: ab  # type: ignore[assignment]
            if scenario not in ("one huge", "one busy"):
                gate.untouched = lambda ab: None  # type: ignore[assignment]
            try:
                out[("before", eff, judged(spec, runs, policy))] += 1
            finally:
                gate.untouched, gate.set_aside, gate.CONTENDED_OUTLIER = shipped, aside, contended  # type: ignore[misc]
            ab = ab_input(spec, runs, policy)[0]
            out[("kept", eff)] += 0 if gate.untouched(ab) is None else 1
            out[("aside", eff)] += 1 if gate.set_aside(ab).aside else 0
    return fam_name, scenario, dict(out)


def main() -> int:
    ap = _cli.parser(__doc__, reps=200, seed=6262)
    ap.add_argument("--families", default="")
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--effect", type=float, default=EFFECT, help=f"the candidate's slower service (default {EFFECT})")
    a = ap.parse_args()
    fams = [f for f in a.families.split(",") if f] or list(sim.FAMILIES)
    scen = [s for s in a.scenarios.split(",") if s] or list(SCENARIOS)
    jobs = [(f, s, a.reps, a.seed + 101 * i + 7 * j, a.effect) for i, f in enumerate(fams) for j, s in enumerate(scen)]
    print(f"# gpuslo ab with a late generator ({a.reps} replications, n = {N}, p95, alpha {current.POLICY.alpha})\n")
    print(f"| family | stalls | untouched reading used | a run set aside | A/A REGRESSED before / now | "
          f"+{a.effect:.0%} REGRESSED before / now |")
    print("|---|---|---|---|---|---|")
    with ProcessPoolExecutor(a.jobs) as ex:
        for fam_name, scenario, o in ex.map(cell, jobs):
            r = a.reps

            def k(*key: object, o: dict = o) -> int:
                return int(o.get(key, 0))

            print(f"| {fam_name} | {scenario} | {100 * k('kept', 0) / r:.0f}% | {100 * k('aside', 0) / r:.0f}% | {pct(k('before', 0, 'REGRESSED'), r)} / "
                  f"{pct(k('now', 0, 'REGRESSED'), r)} | {pct(k('before', 1, 'REGRESSED'), r)} / "
                  f"{pct(k('now', 1, 'REGRESSED'), r)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
