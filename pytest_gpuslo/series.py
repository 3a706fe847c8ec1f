"""The HTML report's chart data for one run: compact, decimated, JSON (layer 2, numpy and stats).

Built only when the HTML report is asked for (``runner.Settings.keep_series``) and carried in
``summary["series"]``, from pytest-xdist workers to the controller, so it stays small whatever the
run's length: at most ``TIME_BINS`` time bins, one quantile curve of about 45 points, at most
``TELEMETRY_POINTS`` telemetry samples, every number rounded to ``SIG`` significant digits (about
10-25 KB a test).  The schema is in docs/reports.md.

``reference`` is public: the stored baseline fills it today, and an A/B comparison of two
revisions fills the same block with the base revision's runs (the chart's label comes from it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import stats

if TYPE_CHECKING:
    from pytest_gpuslo.result import SloResult

F64 = npt.NDArray[np.float64]

SCHEMA = 2
#: time bins over the run: at most this many, and about ``PER_BIN`` requests in each.
TIME_BINS, MIN_BINS, PER_BIN = 200, 30, 50
#: quantile-curve points per decade of 1/(1-p).
PER_DECADE = 10
TELEMETRY_POINTS = 200
#: a burst: arrivals over a window above this multiple of the mean rate, with windows long enough
#: to expect ``BURST_MIN_EXPECTED`` arrivals at the mean rate (Poisson noise alone then crosses 2x
#: about once in 10^5 windows).
BURST_FACTOR, BURST_MIN_EXPECTED = 2.0, 20
SIG = 4


def rounded(values: Iterable[float], sig: int = SIG) -> list[float | None]:
    """``sig`` significant digits; NaN and infinity become ``None`` (JSON null)."""
    return [float(f"{v:.{sig}g}") if math.isfinite(v) else None for v in map(float, values)]


def percentile_grid(n: int, extra: Iterable[float] = ()) -> F64:
    """Fractions p spread evenly on a log scale of 1/(1-p), from 0 to 1-1/n (the most extreme
    quantile a sample of n can estimate), with the usual percentiles and ``extra`` (the budgets)."""
    if n < 2:
        return np.array([0.0, 0.5])
    top = 1.0 - 1.0 / n
    xs = 10.0 ** (np.arange(int(PER_DECADE * math.log10(n)) + 1) / PER_DECADE)
    ps = set(np.round(1.0 - 1.0 / xs, 6).tolist()) | {0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, *extra}
    return np.array(sorted({p for p in ps if 0.0 <= p <= top} | {round(top, 6)}))


def quantile_curve(runs: Sequence[F64], grid: F64, confidence: float,
                   budgets: Mapping[float, float] | None = None) -> dict[str, Any]:
    """The quantile curve of the pooled runs at ``grid``, with a confidence band.

    The band is the gate's own: at each p, the order-statistic bounds with the design effect
    (``stats.order_bound``; at a budgeted percentile ``stats.budget_design_effect`` with its budget,
    elsewhere ``stats.design_effect``) at ``confidence`` on each side, so at a budgeted percentile
    it equals the bounds the claim was decided on.  With several runs it also spans
    every run's own quantile (the run-to-run spread).  ``None`` where the sample cannot bound it.
    """
    runs = [np.asarray(r, dtype=np.float64) for r in runs if np.size(r)]
    if not runs:
        return {"p": [], "ms": [], "lo": [], "hi": [], "n": 0, "runs": 0}
    pooled = np.concatenate(runs)
    ms = np.quantile(pooled, grid)
    lo, hi = np.empty_like(ms), np.empty_like(ms)
    ranked = np.sort(pooled)  # order_bound sorts again: sorted input makes that cheap
    budgets = budgets or {}
    for i, p in enumerate(grid):
        # in scheduled order: the batches are runs of time
        budget = next((b for q, b in budgets.items() if abs(q - p) < 1e-9), None)
        d = (stats.budget_design_effect(pooled, budget, p) if budget is not None and len(runs) == 1
             else stats.design_effect(pooled, p))
        lo[i] = stats.order_bound(ranked, p, d, confidence, upper=False)
        hi[i] = stats.order_bound(ranked, p, d, confidence, upper=True)
    if len(runs) > 1:
        each = np.array([np.quantile(r, grid) for r in runs])
        lo, hi = np.minimum(lo, each.min(axis=0)), np.maximum(hi, each.max(axis=0))
    lo = np.where(lo > 0, lo, np.nan)  # 0: no lower bound (and none on a log axis)
    return {"p": grid.round(6).tolist(), "ms": rounded(ms), "lo": rounded(lo), "hi": rounded(hi),
            "n": int(pooled.size), "runs": len(runs), "confidence": confidence}


def reference(label: str, runs: Sequence[F64], *, confidence: float, percentiles: Iterable[float] = (),
              stages: Mapping[str, Any] | None = None, detail: str = "",
              comparable: bool = True, timeout_s: float | None = None) -> dict[str, Any]:
    """The block the report draws beside the run: the stored baseline ("baseline") or an A/B
    comparison's base revision ("base"): its quantile curve and band (with ``percentiles``, the
    budgets, on its grid), its end-to-end p50/p95 and per-stage times, and a line saying what it
    is.  ``comparable=False``: recorded on another machine class, drawn but not compared.
    ``timeout_s``: values at it are requests that raised or timed out, holding it as a stand-in
    latency: nothing is drawn there (review102 F1: a base side that raised drew 10 s)."""
    pooled = np.concatenate([np.asarray(r, dtype=np.float64) for r in runs]) if runs else np.empty(0)
    curve = quantile_curve(runs, percentile_grid(pooled.size, percentiles), confidence,
                           percentiles if isinstance(percentiles, Mapping) else None)
    span = (math.inf, math.inf)
    if timeout_s is not None and pooled.size:
        span = stats.raised_span(pooled, timeout_s, stats.stand_ins(pooled, timeout_s))
    ends = {k: float(np.quantile(pooled, p)) for k, p in (("p50", 0.5), ("p95", 0.95))} if pooled.size else {}
    return {"label": label, "detail": detail, "comparable": comparable, **_measured(curve, span),
            "latency_ms": {k: (rounded([ends[k]])[0] if k in ends and not span[0] < ends[k] <= span[1] else None)
                           for k in ("p50", "p95")},
            "stages": {k: {"p50_ms": rounded([v["p50_ms"]])[0], "p95_ms": rounded([v["p95_ms"]])[0]}
                       for k, v in (stages or {}).items()}}


def _edges(first: float, last: float, n: int) -> F64:
    bins = int(np.clip(n // PER_BIN, MIN_BINS, TIME_BINS))
    return np.linspace(first, max(last, first + 1e-6), bins + 1)


def peak_depth(begin: F64, end: F64, edges: F64) -> list[int]:
    """The most requests inside [begin, end) at any moment of each bin (a spike shorter than a bin
    is kept).  ``begin < 0``: never entered; ``end < 0``: never left."""
    b = begin[begin >= 0]
    f = end[(begin >= 0) & (end >= 0)]
    t = np.concatenate([b, f])
    step = np.concatenate([np.ones(b.size, np.int64), -np.ones(f.size, np.int64)])
    order = np.lexsort((step, t))  # at equal times, leave before entering
    t, run = t[order], np.cumsum(step[order])
    before = np.searchsorted(t, edges[:-1], side="left") - 1
    peak = np.where(before >= 0, run[np.clip(before, 0, None)] if run.size else 0, 0).astype(np.int64)
    inside = (t >= edges[0]) & (t < edges[-1])
    np.maximum.at(peak, np.clip(np.searchsorted(edges, t[inside], side="right") - 1, 0, peak.size - 1),
                  run[inside])
    return peak.tolist()


def bursts(sched_s: F64, first: float, last: float, bin_s: float) -> list[list[float]]:
    """[start, end] of each stretch whose arrival rate was over ``BURST_FACTOR`` x the mean."""
    if sched_s.size < 2:
        return []
    mean_hz = (sched_s.size - 1) / max(sched_s[-1] - sched_s[0], 1e-9)
    window = max(bin_s, BURST_MIN_EXPECTED / mean_hz)
    edges = np.arange(first, last + window, window)
    if edges.size < 3:
        return []
    count = np.histogram(sched_s, edges)[0]
    hot = count > BURST_FACTOR * mean_hz * window
    out: list[list[float]] = []
    for i in np.flatnonzero(hot):
        lo, hi = float(edges[i] - first), float(edges[i + 1] - first)
        if out and abs(out[-1][1] - lo) < 1e-9:
            out[-1][1] = hi
        else:
            out.append([lo, hi])
    return [[round(a, 4), round(b, 4)] for a, b in out]


def _measured(curve: dict[str, Any], span: tuple[float, float]) -> dict[str, Any]:
    """The curve with every value among the raised requests' stand-in latency (``stats.raised_span``)
    null: no request took that long."""
    def kept(xs: list[float | None]) -> list[float | None]:
        return [None if x is not None and span[0] < x <= span[1] else x for x in xs]
    return {**curve, **{k: kept(curve[k]) for k in ("ms", "lo", "hi") if k in curve}}


def _per_bin(values: F64, sched_s: F64, edges: F64, qs: Sequence[float]) -> list[list[float | None]]:
    """Quantiles (1.0: the maximum) of ``values`` per time bin of the scheduled arrival."""
    cut = np.searchsorted(sched_s, edges)
    out = np.full((len(qs), edges.size - 1), np.nan)
    for i in range(edges.size - 1):
        chunk = values[cut[i]:cut[i + 1]]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            out[:, i] = np.quantile(chunk, qs)
    return [rounded(row) for row in out]


def telemetry(trace: Sequence[dict[str, Any]], t0_ns: int, first_s: float) -> dict[str, Any] | None:
    """NVML samples on the run's time axis, at most ``TELEMETRY_POINTS`` (per bucket: the lowest
    SM clock, the highest power and temperature, every clock-event reason seen)."""
    rows = [s for s in trace if s.get("sm_mhz") is not None]
    if not rows:
        return None
    t = np.array([(s["t_ns"] - t0_ns) / 1e9 - first_s for s in rows])
    groups = np.array_split(np.arange(len(rows)), min(len(rows), TELEMETRY_POINTS))

    def col(key: str, pick: Any) -> list[float | None]:
        vals = np.array([np.nan if s.get(key) is None else float(s[key]) for s in rows])
        return rounded([pick(vals[g]) if np.isfinite(vals[g]).any() else np.nan for g in groups])

    reasons = [int(np.bitwise_or.reduce([int(rows[i].get("reasons") or 0) for i in g])) for g in groups]
    return {"t_s": rounded([t[g[0]] for g in groups]), "sm_mhz": col("sm_mhz", np.nanmin),
            "power_w": col("power_w", np.nanmax), "temp_c": col("temp_c", np.nanmax), "reasons": reasons}


def build(result: "SloResult", *, alpha: float, ref: dict[str, Any] | None = None,
          label: str = "this run") -> dict[str, Any]:
    """The chart data of one run (schema ``SCHEMA``; docs/reports.md).  Time is in seconds from the
    first measured scheduled arrival; the quantile band is at ``1 - alpha`` on each side."""
    d, w = result.data, result.warmup
    sched = d.scheduled_ns[w:] / 1e9
    if sched.size < 2:
        return {}
    end = d.end_ns[w:] / 1e9
    ok = result.ok & (d.end_ns[w:] >= 0)
    # every completion counts in the achieved rate, one after timeout_s too (review107 F2: an
    # overloaded queue whose lanes served 330/s read 0/s from the moment its latency passed it)
    done = ~np.asarray(result.failed, dtype=bool) & (d.end_ns[w:] >= 0)
    first = float(sched[0])
    last = float(max(end[ok].max() if ok.any() else sched[-1], sched[-1]))
    edges = _edges(first, last, sched.size)
    width = float(edges[1] - edges[0])
    lat, lag = result.latency_ms, result.lag_ms
    start = d.start_ns[w:] / 1e9
    never = np.full(sched.size, -1.0)
    depth = {"in system": peak_depth(sched, np.where(d.end_ns[w:] >= 0, end, -1.0), edges),
             "admission": peak_depth(sched, np.where(d.start_ns[w:] >= 0, start, -1.0), edges)}
    for name, st in d.stages.items():
        b, e = st.begin_ns[w:], st.end_ns[w:]
        depth[name] = peak_depth(np.where(b >= 0, b / 1e9, never), np.where(e >= 0, e / 1e9, never), edges)
    # A raised request holds the timeout as its latency: no chart draws that (review100 restart F5:
    # "p95 10000, p99 10000" and 10-s spikes on the HTML's charts); the bins count them instead.
    # Nor one that never completed (a hang's, or still queued at the give-up: review107 F1, a 300-ms
    # plateau where nothing returned).
    raised = np.asarray(result.failed, dtype=bool)
    gone = ~raised & (d.end_ns[w:] < 0)
    p50, p99, top = _per_bin(np.where(raised | gone, np.nan, lat), sched, edges, (0.5, 0.99, 1.0))
    budgets = sorted(result.spec.budgets_ms)
    grid = percentile_grid(lat.size, budgets)
    confidence = 1.0 - alpha
    service = result.service_ms
    service = service[np.isfinite(service)]
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "bin_s": round(width, 6),
        "t_s": rounded(edges[:-1] - first),
        "offered_hz": rounded(np.histogram(sched, edges)[0] / width),
        "achieved_hz": rounded(np.histogram(end[done], edges)[0] / width),
        "depth": depth,
        "latency_ms": {"p50": p50, "p99": p99, "max": top},
        "lag_max_ms": _per_bin(lag, sched, edges, (1.0,))[0],
        "bursts": bursts(sched, first, last, width),
        "spectrum": {"label": label, **_measured(quantile_curve([lat], grid, confidence, result.spec.budgets_ms),
                                                 stats.raised_span(lat, d.timeout_ns / 1e9, int(raised.sum())
                                                                   + stats.stand_ins(lat, d.timeout_ns / 1e9)))},
        "body_ms": {k: (rounded([np.quantile(service, p)])[0] if service.size else None)
                    for k, p in (("p50", 0.5), ("p95", 0.95))},
    }
    if raised.any():
        out["raised"] = np.histogram(sched[raised], edges)[0].astype(int).tolist()
    if gone.any():
        out["unfinished"] = np.histogram(sched[gone], edges)[0].astype(int).tolist()
    tel = telemetry(result.telemetry.get("trace") or [], d.t0_ns, first)
    if tel is not None:
        out["telemetry"] = tel
    if ref is not None:
        out["reference"] = ref
    return out
