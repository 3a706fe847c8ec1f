"""The replay that sets the stored-baseline interval's scale (``replay``, ``gate.interval_scale``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_gpuslo import gate, replay, stats


def _one_server(rho: float, n: int = 12_000, seed: int = 1, gap: float = 0.0) -> tuple[np.ndarray, ...]:
    """An M/D/1-like lane (service 1 +- 10%) with a fixed hand-off ``gap`` before each start:
    scheduled = dispatch, start, end, lane."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rho, n))
    s = rng.uniform(0.9, 1.1, n)
    start, end = np.empty(n), np.empty(n)
    free = -math.inf
    for i in range(n):
        start[i] = max(t[i], free) + gap
        end[i] = free = start[i] + s[i]
    return t, t.copy(), start, end, np.zeros(n, dtype=np.int32)


def test_replay_at_f1_gives_the_measured_completions_back_lane_by_lane() -> None:
    t, d, s, e, _ = _one_server(0.8, n=3000, gap=0.05)
    lanes = np.arange(t.size, dtype=np.int32) % 3  # any assignment: each lane is its own FIFO
    for k in range(3):  # rebuild each lane as its own queue so the stamps are consistent
        idx = lanes == k
        free = -math.inf
        for i in np.flatnonzero(idx):
            s[i] = max(d[i], free) + 0.05
            e[i] = free = s[i] + 1.0
    assert np.allclose(replay.completions(d, s, e, lanes, 1.0), e)
    slower = replay.completions(d, s, e, lanes, 1.1)
    assert np.all(slower >= e - 1e-9) and slower[-1] > e[-1]


def test_a_queue_near_saturation_bends_like_1_over_q_and_an_idle_one_like_ln_q() -> None:
    """(Between the two one run's lambda is noisy: the gate takes the median of three, and never
    flatter than 1/q.)"""
    near = replay.scale(*_one_server(0.95), 0.95, warmup=600)
    light = replay.scale(*_one_server(0.02), 0.95, warmup=600)
    assert near is not None and -2.0 < near < -0.5  # 1/(1 - rho f): lambda about -1
    assert light is None or abs(light) < 0.5  # the service is the latency: q is straight on ln q


def test_no_scale_where_most_of_the_latency_is_time_the_replay_does_not_scale() -> None:
    """A hand-off five times the service (a CPU lane's wake-up, a late dispatcher): the p95 moves
    a sixth as much as the service, and the curvature would be the model's (1 - 1/w), not the
    queue's; without the hand-off the same queue has a scale."""
    assert replay.scale(*_one_server(0.3, gap=5.0), 0.95, warmup=600) is None
    assert replay.scale(*_one_server(0.9), 0.95, warmup=600) is not None


def test_no_scale_when_the_replay_does_not_fit_the_run() -> None:
    t, d, s, e, lane = _one_server(0.8, n=3000)
    # A batcher: pairs of requests start and end together on one lane; a FIFO replay would
    # serialise them and miss the measured statistic.
    s2, e2 = s.copy(), e.copy()
    s2[1::2], e2[1::2] = s2[0::2], e2[0::2]
    assert replay.scale(t, d, s2, e2, lane, 0.95, warmup=100) is None
    never = e.copy()
    never[5] = -1
    assert replay.scale(t, d, s, never, lane, 0.95, warmup=100) is None
    assert replay.scale(t[:30], d[:30], s[:30], e[:30], lane[:30], 0.95) is None  # too few


def test_the_gate_takes_1_over_q_or_a_steeper_scale_never_a_flatter_one() -> None:
    lam, words = gate.interval_scale([], 0.95)
    assert lam == stats.DEFAULT_SCALE and words.startswith("on 1/q (the stored runs' replay gave no scale")
    for near in (-0.996, -1.004):  # printed as -1.00 either way: 1/q, said so
        assert gate.interval_scale([{"p95": near}], 0.95) == (
            stats.DEFAULT_SCALE, "on 1/q (the stored runs' replay, q^-1.00, is no steeper)")
    lam, words = gate.interval_scale([None, {"p95": 0.4}, {"p95": 0.5}, {"p95": -0.2}], 0.95)
    assert lam == stats.DEFAULT_SCALE and "q^0.40, is no steeper" in words  # the median, said
    lam, words = gate.interval_scale([{"p95": 0.9}, {"p95": -2.5}, {"p95": -2.0}, {"p95": -2.9}], 0.95)
    assert lam == -2.5 and "q^-2.50" in words  # the latest three: -2.5, -2.0, -2.9
    assert gate.interval_scale([{"p99": -3.0}], 0.95)[0] == stats.DEFAULT_SCALE  # another percentile's


def _runs(factors: list[float], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.lognormal(0.0, 0.4, 4000) * f for f in factors]


@pytest.mark.parametrize("lam", [-2.5, -1.0, -0.3, 0.5])
def test_the_interval_is_unit_free_and_reads_the_change_as_a_ratio_on_any_scale(lam: float) -> None:
    stored = _runs([1.0, 1.01, 0.99, 1.02, 0.98], 3)
    cand = _runs([1.0], 4)[0]
    a = stats.prediction_test(stored, cand, 0.95, alpha=0.005, scale=lam)
    b = stats.prediction_test([x * 1000 for x in stored], cand * 1000, 0.95, alpha=0.005, scale=lam)
    slow = stats.prediction_test(stored, cand * 1.3, 0.95, alpha=0.005, scale=lam)
    assert a.ratio == pytest.approx(b.ratio) and a.ci_low == pytest.approx(b.ci_low)
    assert a.ci_low < a.ratio < a.ci_high
    assert slow.ratio == pytest.approx(a.ratio * 1.3, rel=1e-6)
    assert slow.outcome == "REGRESSED" and a.outcome != "REGRESSED"


def test_a_steeper_scale_widens_the_regression_side() -> None:
    """On a steeper scale the same stored spread allows a larger slowdown: a candidate the 1/q
    interval calls REGRESSED by a little is within the noise on q^-3."""
    stored = _runs([1.0, 1.02, 0.98, 1.03, 0.97, 1.0, 1.01, 0.99], 5)
    base = stats.prediction_test(stored, _runs([1.0], 6)[0], 0.95, alpha=0.005)
    factor = base.ci_high * 1.02 * 1.01
    inv = stats.prediction_test(stored, _runs([1.0], 6)[0] * factor, 0.95, alpha=0.005, scale=-1.0)
    steep = stats.prediction_test(stored, _runs([1.0], 6)[0] * factor, 0.95, alpha=0.005, scale=-3.0)
    assert steep.ci_low < inv.ci_low
    assert steep.p_regress > inv.p_regress
