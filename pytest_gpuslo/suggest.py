"""First-run help: budgets, sizes and run times from one short pilot run (layer 2, pure).

``pytest --gpuslo-suggest`` runs each SLO test once, briefly, on this machine, plus a no-op body
at the same rate to find the load generator's own lateness (the schedule-lag floor).  This module
turns those samples into a suggestion: the observed percentiles, the requests each percentile
needs for a verdict (the gate's own ``budget_test`` says how many), budgets with headroom that
also clear the lag rule, the run time, and a marker line to paste.  Rendering is here too, so the
plugin only runs and prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import stats
from pytest_gpuslo.gate import cpu_contention
from pytest_gpuslo.spec import (
    DEFAULT_EXCEEDANCES,
    DEFAULT_MIN_REQUESTS,
    DEFAULT_WARMUP_FRACTION,
    SloSpec,
    percentile_label,
)

#: A suggested budget is at least this multiple of the observed percentile (run-to-run noise,
#: a slower CI machine, room to decide PASS rather than "too close to the budget").
HEADROOM = 2.0
#: ... and at least this multiple of the lowest budget the lag rule allows (lag varies with load).
LAG_MARGIN = 2.0
#: The pilot: about this many seconds at the marker's rate, at least ``PILOT_MIN`` requests, never
#: more than the marker's own run.
PILOT_S = 5.0
PILOT_MIN = 1000
#: The lag floor: a no-op body at the test's rate for about this long (at least 200 requests).
FLOOR_S = 1.0
#: Percentiles always reported, besides the budgeted ones.
SHOWN = (0.95, 0.99)
#: A pilot lag p99 this many times a no-op body's at the same rate is the bodies' own lateness.
OWN_LAG = 5.0


def planned_requests(spec: SloSpec) -> int:
    """Measured requests of the marker's own run (a duration counts at the mean rate)."""
    if spec.requests is not None:
        return int(spec.requests)
    seconds = spec.duration_s or spec.max_duration_s or 0.0
    return int(math.ceil(seconds * spec.rate_hz))


def pilot_spec(spec: SloSpec) -> SloSpec:
    """The marker's test, shortened to a pilot of about ``PILOT_S`` seconds (same rate, streams,
    arrivals and seed)."""
    n = min(planned_requests(spec) or PILOT_MIN, max(PILOT_MIN, int(math.ceil(PILOT_S * spec.rate_hz))))
    return replace(spec, requests=n, duration_s=None, max_duration_s=None, warmup_s=None,
                   warmup_requests=max(1, int(math.ceil(n * DEFAULT_WARMUP_FRACTION))))


def floor_spec(spec: SloSpec) -> SloSpec:
    """A no-op run at the test's rate and streams: the dispatcher's own lateness on this machine."""
    n = max(200, int(math.ceil(FLOOR_S * spec.rate_hz)))
    return replace(spec, budgets_ms={}, throughput_hz=None, requests=n, duration_s=None,
                   max_duration_s=None, warmup_s=None, warmup_requests=max(1, n // 20))


def round_up(n: int) -> int:
    """A request count rounded up to two significant figures (32,508 -> 33,000)."""
    if n < 100:
        return n
    scale = 10 ** (len(str(n)) - 2)
    return -(-n // scale) * scale


def default_requests(p: float) -> int:
    """What a marker without a size runs for percentile p (the spec's own rule)."""
    return max(DEFAULT_MIN_REQUESTS, math.ceil(DEFAULT_EXCEEDANCES / (1.0 - p)))


def nice_ceil(x: float) -> float:
    """The next round number at or above x: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of 10."""
    if not x > 0 or not math.isfinite(x):
        return x
    scale = 10.0 ** math.floor(math.log10(x))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * scale >= x * (1 - 1e-9):
            return float(f"{step * scale:.6g}")
    return 10 * scale


def _q(a: npt.NDArray[np.float64], p: float) -> float | None:
    return float(np.quantile(a, p)) if a.size else None


def suggest(spec: SloSpec, latency_ms: npt.NDArray[np.float64], lag_ms: npt.NDArray[np.float64], *,
            floor_lag_ms: float | None, pilot_s: float, achieved_hz: float | None, failed: int = 0,
            hung: int = 0, alpha: float = 0.01, max_lag_fraction: float = 0.05,
            other_cpu_load: float | None = None, cpus: int | None = None,
            load_dependent: bool | None = None) -> dict[str, Any]:
    """A JSON-ready suggestion for one test from its pilot run's latencies and lag.

    The lag floor bounds every suggested budget.  The gate lets lag stand beside a PASS only in a
    run whose service did not grow with the requests in flight, and that check is made on each run:
    a pilot that passed it (``load_dependent`` False) said "no budget floor", and the marker it
    suggested read INCONCLUSIVE for lag in 3 runs of 3 (review71).  So the floor holds whatever
    the pilot found; the words say where a run like the pilot could still decide below it."""
    lat = np.asarray(latency_ms, dtype=np.float64)
    lag = np.asarray(lag_ms, dtype=np.float64)
    lag_p99 = _q(lag, 0.99) or 0.0
    worst_lag = max(lag_p99, floor_lag_ms or 0.0)
    lag_min_budget = worst_lag / max_lag_fraction if worst_lag > 0 else 0.0
    budgeted = list(spec.budgets_ms) or [0.95]
    rows: list[dict[str, Any]] = []
    previous = 0.0
    for p in sorted(set(budgeted) | set(SHOWN)):
        observed = _q(lat, p)
        if observed is None:
            continue
        by_latency, by_lag = HEADROOM * observed, LAG_MARGIN * lag_min_budget
        budget = nice_ceil(max(by_latency, by_lag, previous))
        bound_by = "lag" if by_lag > by_latency else "latency"
        marked = spec.budgets_ms.get(p)
        if marked is not None and marked < budget and marked >= max(by_latency, lag_min_budget, previous):
            # The user's own budget where it already has the headroom and clears the lag floor this
            # pilot measured: loosening it weakens the gate for nothing (review98 #4: 20 -> 30 ms).
            budget, bound_by = marked, "marked"
        previous = budget
        test = stats.budget_test(lat, budget, p, alpha=alpha)
        need = round_up(max(default_requests(p), int(test.needed_n or 0)))
        rows.append({"p": p, "label": percentile_label(p), "observed_ms": observed, "budget_ms": budget,
                     "bound_by": bound_by, "needed_n": need,
                     "design_effect": test.design_effect, "budgeted": p in budgeted,
                     "seconds": need * (1 + DEFAULT_WARMUP_FRACTION) / spec.rate_hz})
    chosen = [r for r in rows if r["budgeted"]]
    requests = max((r["needed_n"] for r in chosen), default=default_requests(0.95))
    warnings = []
    offered = spec.rate_hz
    if achieved_hz is not None and achieved_hz < 0.9 * offered:
        warnings.append(f"the pilot completed only {achieved_hz:.4g}/s of the {offered:g}/s offered: the "
                        f"service cannot keep up; lower rate_hz or add streams before choosing budgets")
    busy = cpu_contention(other_cpu_load, cpus)
    if busy:
        warnings.append(f"other processes kept {other_cpu_load:.1f} of {cpus} CPUs busy during the pilot: "
                        f"lag and latencies are inflated; suggest again on a quiet machine for tighter "
                        f"budgets")
    crowded = bool(cpus) and spec.streams >= (cpus or 0)  # the lanes alone fill the CPUs
    if (floor_lag_ms and lag_p99 > OWN_LAG * floor_lag_ms and (not busy or crowded)
            and any(r["bound_by"] == "lag" for r in chosen)):
        # (beside busy neighbours too where the lanes fill the CPUs: review149 F4, 8 CPU-bound
        # lanes on 2 CPUs heard only "this pilot's neighbours made it late")
        # review145 F6: 3 numpy lanes on 2 CPUs lagged 2.67 ms (a no-op body 0.112 ms), and a p90 of
        # 6-12 ms was offered a 120-ms budget, with no word of why the lag was so high or what lowers it
        # (review150 F8: pure-Python lanes keep it waiting for the interpreter, not a CPU, and one
        # stream has none fewer)
        lanes = (f"{spec.streams} lanes on {cpus} CPUs keep it waiting for a CPU, or for the interpreter"
                 if cpus and spec.streams >= cpus else "they keep it waiting for a CPU or the interpreter")
        fewer = ("fewer streams" + (f" (streams={cpus - 1})" if cpus and cpus > 1 and spec.streams >= cpus else "")
                 + " or " if spec.streams > 1 else "")
        warnings.append(f"the pilot's lag p99 ({_ms(lag_p99)} ms) is {lag_p99 / floor_lag_ms:.0f}x a no-op "
                        f"body's at this rate: the lateness is the bodies' own ({lanes}), and it sets the "
                        f"budgets above, far over what the latencies need; {fewer}a lower rate_hz lowers the "
                        f"lag and the budgets it allows")
    if failed:
        warnings.append(f"{failed} pilot requests raised: fix the body first (their latency counts as "
                        f"the timeout)")
    if hung:
        # review52: a hung pilot suggested p95_ms=2000 (twice the timeout) and "raise timeout_s".
        warnings.append(f"{hung} pilot bod{'y' if hung == 1 else 'ies'} hung (still running past "
                        f"timeout_s={spec.timeout_s:g} when the pilot gave up): fix the body first; the "
                        f"budgets below are those of a hung service")
    top = max((r["budget_ms"] for r in chosen), default=0.0)
    if top >= spec.timeout_s * 1000.0 and not hung:
        warnings.append(f"the suggested budgets reach timeout_s={spec.timeout_s:g}; raise timeout_s above "
                        f"{top / 1000:g} s")
    planned = planned_requests(spec)
    # A budget the pilot already broke is a FAIL, whatever the lag (review72 read "expect
    # INCONCLUSIVE" beside a body 5x over its budget, which the gate failed)
    broken = [f"{percentile_label(p)}<={b:g}" for p, b in spec.budgets_ms.items()
              if (_q(lat, p) or 0.0) > b]
    under = [f"{percentile_label(p)}<={b:g}" for p, b in spec.budgets_ms.items() if b < lag_min_budget]
    return {
        "over_budget": broken,
        "under_lag_floor": under,
        "busy": busy,
        "pilot_n": int(lat.size), "pilot_s": pilot_s, "rate_hz": spec.rate_hz, "streams": spec.streams,
        "observed_ms": {percentile_label(p): _q(lat, p) for p in (0.5, 0.95, 0.99)},
        "lag_p99_ms": lag_p99, "floor_lag_ms": floor_lag_ms, "lag_min_budget_ms": lag_min_budget,
        "load_dependent": load_dependent,
        "rows": rows, "requests": requests,
        "seconds": requests * (1 + DEFAULT_WARMUP_FRACTION) / spec.rate_hz,
        "planned_n": planned, "planned_s": planned * (1 + DEFAULT_WARMUP_FRACTION) / spec.rate_hz,
        "marker": "" if hung else marker_line(spec, {r["p"]: r["budget_ms"] for r in chosen}, requests),
        "warnings": warnings,
    }


def marker_line(spec: SloSpec, budgets: dict[float, float], requests: int) -> str:
    """``@pytest.mark.slo(p95_ms=12, rate_hz=2000, streams=4, requests=20000)``, or the same
    arguments of ``slo_run(handler, ...)`` for a run that ``slo_run`` asked for."""
    args = [f"{percentile_label(p).replace('.', '')}_ms={b:g}" for p, b in sorted(budgets.items())]
    args.append(f"rate_hz={spec.rate_hz:g}")
    if spec.streams != 1:
        args.append(f"streams={spec.streams}")
    if spec.arrivals != "poisson":
        args.append(f"arrivals={spec.arrivals!r}")
    if spec.throughput_hz is not None:
        args.append(f"throughput_hz={spec.throughput_hz:g}")
    if spec.sources.get("backend") in ("marker", "slo_run"):
        args.append(f"backend={spec.backend!r}")
    args.append(f"requests={requests}")
    if "slo_run" in spec.sources.values():  # review98: an slo_run test was handed a marker to paste
        return f"slo_run(handler, {', '.join(args)})"
    return f"@pytest.mark.slo({', '.join(args)})"


def _ms(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def _time(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def lines(summaries: Sequence[dict[str, Any]]) -> list[str]:
    """The ``--gpuslo-suggest`` report: per test, what was observed and what to write."""
    out: list[str] = []
    for s in sorted(summaries, key=lambda s: str(s["nodeid"])):
        g = s.get("suggest")
        if not g:
            continue
        obs = g["observed_ms"]
        spec = s["spec"]
        marked = " ".join(f"{k}<={v:g}" for k, v in spec["budgets_ms"].items()) or "no budget"
        floor = g["floor_lag_ms"]
        out += [
            s["nodeid"],
            f"  pilot      {g['pilot_n']:,} requests at {g['rate_hz']:g}/s on {g['streams']} stream(s) "
            f"in {g['pilot_s']:.1f} s"
            # review99 #1: a slowdown from request 3,000 on was never seen, and its 8-ms budget broken 600x
            + (f": the start of the marked run only ({g['pilot_n']:,} of its {g['planned_n']:,} requests), so a "
               f"body that slows later in a run (with the request count, the time or state it builds) is not "
               f"seen here; run the test as marked to check the budget"
               if g["pilot_n"] < g["planned_n"] else ""),
            f"  observed   p50 {_ms(obs['p50'])} ms, p95 {_ms(obs['p95'])} ms, p99 {_ms(obs['p99'])} ms",
            f"  lag        schedule lag p99 {_ms(g['lag_p99_ms'])} ms (a no-op body at this rate: "
            f"{_ms(floor)} ms): "
            + (f"budgets under {_ms(g['lag_min_budget_ms'])} ms are decided only in runs whose service does not "
               f"grow with the requests in flight (this pilot's did not, but each run is checked anew): the "
               f"suggestion stays above it"
               if g["lag_min_budget_ms"] > 0 and g.get("load_dependent") is False
               # review145 F6: "come out INCONCLUSIVE for lag here" held in 1 of 3 runs: a run's own check decides
               else f"budgets under {_ms(g['lag_min_budget_ms'])} ms come out INCONCLUSIVE for lag in runs whose "
                    f"service grows with the requests in flight, as this pilot's did: the suggestion stays above it"
               if g["lag_min_budget_ms"] > 0 and g.get("load_dependent")
               else f"budgets under {_ms(g['lag_min_budget_ms'])} ms may come out INCONCLUSIVE for lag: the "
                    f"suggestion stays above it"
               if g["lag_min_budget_ms"] > 0
               else "no budget is too tight for the load generator here"),
            f"  as marked  {marked}, {g['planned_n']:,} requests: about {_time(g['planned_s'])} per run"
            + (f"; the pilot already measured over {' '.join(g['over_budget'])}: expect FAIL"
               if g.get("over_budget") else
               f"; {' '.join(g['under_lag_floor'])} is under the lag floor: runs as late as this pilot "
               f"{'read' if g.get('load_dependent') else 'may read'} INCONCLUSIVE for lag"
               # review81 #4: "expect INCONCLUSIVE" beside a busy pilot; 8 of 19 such runs PASSed
               + (" (this pilot's neighbours made it late: on a quieter machine it may decide)"
                  if g.get("busy") else "")
               if g.get("under_lag_floor") else ""),
        ]
        # A hung pilot's rows are read off a broken run: no budget or size to suggest (review54).
        for r in g["rows"] if g["marker"] else []:
            why = ("lag rule x2" if r["bound_by"] == "lag" else
                   f"as marked: {HEADROOM:g}x observed and over the lag floor, if with less room than "
                   f"{LAG_MARGIN:g}x it" if r["bound_by"] == "marked" else f"{HEADROOM:g}x observed")
            out.append(f"  {r['label']:<10} needs {r['needed_n']:,} requests ({_time(r['seconds'])}); "
                       f"suggested budget {r['budget_ms']:g} ms ({why}; design effect "
                       f"{r['design_effect']:.1f})")
        out += [f"  warning    {w}" for w in g["warnings"]]
        if g["marker"]:
            out.append(f"  paste      {g['marker']}  # about {_time(g['seconds'])} per run here")
        else:  # a hung pilot: nothing to paste (review53: it pasted p95_ms=1000 against a 0.5-s timeout)
            out.append("  paste      nothing yet: fix the hung body, then suggest again")
    if any((s.get("suggest") or {}).get("rows") for s in summaries):
        # review177 F1: a pilot's design effect of 5.2 sized a test its next run, on a shared 2-core
        # machine, read at 54 ("needs ~33,000 requests")
        out.append("sizes: each from one pilot's design effect (how clustered its slow requests were), which "
                   "another run can read several times higher, on a busier machine above all: on a shared "
                   "machine give the sizes headroom, or suggest again where the SLO jobs will run")
    return out
