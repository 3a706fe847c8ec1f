"""The HTML report's chart data (``pytest_gpuslo.series``): exact on hand-made runs, bounded in size."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pytest_gpuslo import series, stats
from pytest_gpuslo.recorder import RunData, StageTimes
from pytest_gpuslo.result import SloResult
from pytest_gpuslo.spec import SloSpec


def queue_run(arrival_ns: np.ndarray, service_ns: np.ndarray, stages: bool = False,
              t0_ns: int = 5_000_000_000) -> SloResult:
    """One FIFO lane (the Lindley recursion), dispatched on time: a run whose every stamp is known."""
    start = np.empty_like(arrival_ns)
    free = 0
    for i, (a, s) in enumerate(zip(arrival_ns, service_ns)):
        start[i] = max(a, free)
        free = start[i] + s
    end = start + service_ns
    st = {"model.queue": StageTimes(arrival_ns.copy(), start.copy()),
          "model.service": StageTimes(start.copy(), end.copy())} if stages else {}
    n = arrival_ns.size
    data = RunData(scheduled_ns=arrival_ns, dispatch_ns=arrival_ns.copy(), start_ns=start, end_ns=end,
                   lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages=st, timeout_ns=60 * 10**9,
                   t0_ns=t0_ns)
    spec = SloSpec(budgets_ms={0.95: 5.0, 0.99: 20.0}, rate_hz=1000.0, requests=n)
    return SloResult(spec=spec, data=data, warmup=0, backend="virtual")


def test_peak_depth_keeps_a_spike_shorter_than_a_bin() -> None:
    """Three requests overlap for 1 ms inside a 10 ms bin: the bin reports 3, not the depth at
    its edges; a request that never left stays counted."""
    begin = np.array([0.012, 0.0125, 0.013, 0.025])
    end = np.array([0.014, 0.014, 0.0135, -1.0])
    edges = np.array([0.0, 0.01, 0.02, 0.03, 0.04])

    assert [0, 3, 1, 1] == series.peak_depth(begin, end, edges)


def test_bursts_are_found_where_the_schedule_crowds_and_nowhere_on_a_steady_one() -> None:
    steady = np.arange(0, 10.0, 0.001)  # 1000/s for 10 s
    crowd = np.concatenate([np.arange(0, 2.0, 0.002), np.arange(2.0, 2.5, 0.0002),  # 5000/s burst
                            np.arange(2.5, 10.0, 0.002)])

    assert [] == series.bursts(steady, 0.0, 10.0, 0.05)
    found = series.bursts(crowd, 0.0, 10.0, 0.05)
    assert 1 == len(found) and found[0][0] >= 1.95 and found[0][1] <= 2.55 and found[0][1] - found[0][0] >= 0.4


def test_the_band_at_a_budgeted_percentile_is_the_gate_s_own_bounds() -> None:
    """The chart never disagrees with the verdict: at p95 the band is budget_test's [lower, upper]."""
    rng = np.random.default_rng(3)
    lat = rng.gamma(2.0, 1.0, 20_000)
    grid = series.percentile_grid(lat.size, [0.95])
    curve = series.quantile_curve([lat], grid, confidence=0.99, budgets={0.95: 5.0})
    bt = stats.budget_test(lat, 5.0, 0.95, alpha=0.01)

    i = curve["p"].index(0.95)
    assert curve["lo"][i] == pytest.approx(bt.lower, rel=1e-3)
    assert curve["hi"][i] == pytest.approx(bt.upper, rel=1e-3)
    assert curve["ms"][i] == pytest.approx(bt.estimate, rel=1e-3)
    assert curve["hi"][-1] is None  # the most extreme quantile cannot be bounded from above


def test_the_grid_runs_from_the_median_side_to_the_last_estimable_percentile() -> None:
    grid = series.percentile_grid(10_000, [0.975])

    assert grid[0] == 0.0 and grid[-1] == pytest.approx(1 - 1e-4)
    assert {0.5, 0.9, 0.95, 0.975, 0.99, 0.999} <= set(grid.tolist())
    assert np.all(np.diff(grid) > 0) and grid.size < 60


def test_a_reference_from_several_runs_spans_each_run_s_own_quantile() -> None:
    rng = np.random.default_rng(5)
    runs = [rng.gamma(2.0, 1.0, 5000) * k for k in (1.0, 1.3)]
    ref = series.reference("base", runs, confidence=0.99, percentiles=[0.95])

    i = ref["p"].index(0.95)
    assert ref["label"] == "base" and ref["runs"] == 2 and ref["n"] == 10_000
    # (rounded to 4 significant digits)
    assert ref["lo"][i] <= np.quantile(runs[0], 0.95) * 1.001 and ref["hi"][i] >= np.quantile(runs[1], 0.95) * 0.999


def test_a_long_run_becomes_a_bounded_payload_with_admission_and_stage_depths() -> None:
    """200,000 requests fit in the same few KB as 4,000: bins, curve points and rounding bound it."""
    rng = np.random.default_rng(7)
    sizes = {}
    for n in (4_000, 200_000):
        arrivals = np.cumsum(rng.exponential(1e6, n)).astype(np.int64)  # 1000/s
        result = queue_run(arrivals, np.full(n, 800_000, np.int64), stages=True)
        payload = series.build(result, alpha=0.01)
        sizes[n] = len(json.dumps(payload, separators=(",", ":")))
        assert len(payload["t_s"]) <= series.TIME_BINS
        assert {"in system", "admission", "model.queue", "model.service"} == set(payload["depth"])
        assert payload["schema"] == series.SCHEMA and "reference" not in payload
    assert sizes[200_000] < 30_000 and sizes[200_000] < 3 * sizes[4_000]


def test_a_stall_shows_in_its_time_bin() -> None:
    """A 300 ms stall of the lane at t=5 s: the latency and the admission queue peak in that bin
    and nowhere else, and the over-time series is indexed by scheduled arrival."""
    n = 10_000
    arrivals = np.arange(n, dtype=np.int64) * 1_000_000  # 1000/s for 10 s
    service = np.full(n, 500_000, np.int64)
    service[5000] = 300_000_000
    payload = series.build(queue_run(arrivals, service), alpha=0.01)

    t = np.array(payload["t_s"])
    worst = int(np.nanargmax(np.array(payload["latency_ms"]["max"], dtype=float)))
    assert 4.9 <= t[worst] <= 5.1
    assert payload["latency_ms"]["max"][worst] == pytest.approx(300.5, rel=0.01)
    depth = np.array(payload["depth"]["admission"])
    assert depth.max() >= 290 and t[int(depth.argmax())] <= 5.35 and depth[t < 4.9].max() == 0


def test_telemetry_lands_on_the_run_s_time_axis_decimated() -> None:
    t0 = 5_000_000_000
    trace = [{"t_ns": t0 + 10**9 + k * 10**7, "sm_mhz": 1980 - (k == 300) * 600, "power_w": 300.0 + k % 7,
              "temp_c": 60, "reasons": 0x8 if k == 300 else 0} for k in range(1000)]
    tel = series.telemetry(trace, t0, first_s=1.0)

    assert tel is not None and len(tel["t_s"]) == series.TELEMETRY_POINTS
    assert tel["t_s"][0] == pytest.approx(0.0)
    assert min(tel["sm_mhz"]) == 1380  # the dip survives decimation
    assert sum(1 for r in tel["reasons"] if r & 0x8) == 1
    assert series.telemetry([{"t_ns": 1, "sm_mhz": None}], t0, 0.0) is None


def test_rounding_keeps_significant_digits_and_nulls_what_json_cannot_hold() -> None:
    assert [1.235, 1235000.0, None, None, 0.0001235] == series.rounded([1.23456, 1234567, float("nan"),
                                                                          float("inf"), 0.000123456])


def test_raised_requests_draw_no_latency_but_are_counted_per_bin() -> None:
    """review100 restart F5: the charts drew the timeout that raised requests hold as their latency
    (p99 and "slowest" 10000 ms in every bin, a spectrum reaching 10 s): no request took that long."""
    n = 4000
    arrivals = np.arange(n, dtype=np.int64) * 1_000_000
    run = queue_run(arrivals, np.full(n, 500_000, np.int64))
    run.data.failed[3::10] = True  # 10% raised
    assert run.latency_ms.max() >= run.data.timeout_ns / 1e6  # the stand-in the gate counts over budget
    payload = series.build(run, alpha=0.01)

    drawn = [v for row in payload["latency_ms"].values() for v in row if v is not None]
    curve = [v for k in ("ms", "lo", "hi") for v in payload["spectrum"][k] if v is not None]
    assert max(drawn) < 1.0 and max(curve) < 1.0
    assert payload["spectrum"]["ms"][-1] is None  # the p99.9 among the raised: not drawn
    assert sum(payload["raised"]) == 400
    assert "raised" not in series.build(queue_run(arrivals, np.full(n, 500_000, np.int64)), alpha=0.01)


def test_a_reference_whose_runs_raised_draws_nothing_at_their_timeout() -> None:
    """review102 F1: a base side (or a hand-copied stored run) that raised drew its 10-s stand-in:
    a spectrum to 10,000 ms, and a stage chart whose axis ran to it for bars of 3-36 ms."""
    lat = np.where(np.arange(2000) % 10 == 3, 10_000.0, np.linspace(1.0, 3.0, 2000))
    ref = series.reference("base", [lat], confidence=0.99, percentiles={0.95: 20.0}, timeout_s=10.0)
    assert ref["latency_ms"]["p95"] is None and ref["latency_ms"]["p50"] is not None
    assert max(v for k in ("ms", "lo", "hi") for v in ref[k] if v is not None) < 10.0
    as_measured = series.reference("base", [lat], confidence=0.99, percentiles={0.95: 20.0})
    assert as_measured["latency_ms"]["p95"] == 10_000.0  # no timeout given: drawn as it is
