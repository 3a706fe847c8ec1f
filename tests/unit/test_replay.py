"""The replay that sets the stored-baseline interval's scale (``replay``, ``gate.interval_scale``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

from pytest_gpuslo import gate, replay, stats
from pytest_gpuslo.reports import view
from pytest_gpuslo.spec import resolve


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
    assert lam == stats.DEFAULT_SCALE and words.startswith("on 1/q (no machine-speed scale from the stored runs")
    # beside replayed levels the lanes were replayed, so the words do not blame them (session 14's note)
    assert "cannot be replayed" in words
    assert "cannot be replayed" not in gate.interval_scale([], 0.95, replayed=True)[1]
    for near in (-0.996, -1.004):  # printed as -1.00 either way: 1/q, said so
        assert gate.interval_scale([{"p95": near}], 0.95) == (
            stats.DEFAULT_SCALE, "on 1/q (the stored runs' replay, q^-1.00, is no steeper)")
    lam, words = gate.interval_scale([None, {"p95": 0.4}, {"p95": 0.5}, {"p95": -0.2}], 0.95)
    assert lam == stats.DEFAULT_SCALE and "q^0.40, is no steeper" in words  # the median, said
    lam, words = gate.interval_scale([{"p95": 0.9}, {"p95": -2.5}, {"p95": -2.0}, {"p95": -2.9}], 0.95)
    assert lam == -2.5 and "q^-2.50" in words  # the latest three: -2.5, -2.0, -2.9
    assert gate.interval_scale([{"p99": -3.0}], 0.95)[0] == stats.DEFAULT_SCALE  # another percentile's
    # review69: one stored run at q^-1.81 and three light ones were judged on q^-1.81 alone; a run
    # without a scale counts as 1/q in the median, so one steep run of the latest three does not decide
    lam, words = gate.interval_scale([{"p95": -1.81}, None, None, None], 0.95)
    assert lam == stats.DEFAULT_SCALE and "latest 3 stored runs' replays found no machine-speed scale" in words
    lam, words = gate.interval_scale([None, {"p95": -1.81}, None, {"p95": -0.5}], 0.95)
    assert lam == stats.DEFAULT_SCALE and "only 1 bent more than 1/q (q^-1.81)" in words  # -1.81, 1/q, -0.5
    lam, words = gate.interval_scale([None, {"p95": -1.81}, None, None], 0.95)
    assert lam == stats.DEFAULT_SCALE and "only 1 bent more than 1/q (q^-1.81)" in words
    lam, words = gate.interval_scale([None, {"p95": -2.5}, None, {"p95": -2.1}], 0.95)
    assert lam == -2.1 and "q^-2.10" in words  # two of three steep: the median is steep


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


# -- the replayed statistic (replay.shuffled) ----------------------------------------------------

def _lanes_queue(t: np.ndarray, s: np.ndarray, lanes: int, shared: bool, gap: float = 0.0) -> tuple[np.ndarray, ...]:
    """Stamps (scheduled, dispatch, start, end, lane) of ``lanes`` FIFO lanes, bound round-robin or
    sharing one queue (the first free lane takes the oldest request), written out request by request."""
    n = t.size
    start, end, lane = np.empty(n), np.empty(n), np.empty(n, dtype=np.int32)
    free = [-math.inf] * lanes
    for i in range(n):
        k = int(np.argmin(free)) if shared else i % lanes
        start[i] = max(t[i], free[k]) + gap
        end[i] = free[k] = start[i] + s[i]
        lane[i] = k
    return t, t.copy(), start, end, lane


def _bursty(n: int, seed: int, rho: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Batch arrivals (geometric, mean 4) and bimodal service (95% 1, 5% 10): where the slow ones
    fall decides the p95."""
    rng = np.random.default_rng(seed)
    sizes = rng.geometric(0.25, n)
    t = np.repeat(np.cumsum(rng.exponential(4 * 1.45 / rho, sizes.size)), sizes)[:n]
    return t, np.where(rng.random(n) < 0.05, 10.0, 1.0)


@pytest.mark.parametrize("shared", [False, True])
def test_the_replayed_statistic_averages_over_where_the_slow_services_fell(shared: bool) -> None:
    """Runs with the same service times in other orders (pure luck of where the slow ones fell):
    their statistics spread, the replayed ones hardly (only the 16 shuffles' own noise, about a
    quarter); each is deterministic and near the statistic's own level."""
    t, s0 = _bursty(6000, 1)
    rng = np.random.default_rng(2)
    ts, rs = [], []
    for _ in range(12):
        st = _lanes_queue(t * 1e6, rng.permutation(s0) * 1e6, 2, shared)
        got = replay.shuffled(*st, [0.95], warmup=300)
        assert got is not None
        assert got == replay.shuffled(*st, [0.95], warmup=300)
        ts.append(stats.run_statistic((st[3] - st[0])[300:] / 1e6, 0.95))
        rs.append(got[0.95])
    assert abs(np.mean(rs) - np.mean(ts)) < 2 * np.std(ts)
    assert np.std(rs) < 0.5 * np.std(ts), (np.std(rs), np.std(ts))


def test_the_shared_queue_replay_matches_the_queue_written_out() -> None:
    """In the measured order both replays give the measured completions back (the check that lets a
    run carry a replayed statistic at all)."""
    t, s = _bursty(3000, 3)
    for shared in (False, True):
        _, d, st, e, lane = _lanes_queue(t, s, 3, shared, gap=0.01)
        gap = replay._gaps(d, st, e, lane)
        svc = (e - st)[None, :]
        done = replay._shared_queue(d, gap, svc, 3) if shared else replay._fixed_lanes(d, gap, svc, lane)
        assert np.allclose(done[0], e)


def test_no_replayed_statistic_where_the_service_depends_on_a_busy_lane() -> None:
    """An H200's spin kernel took longer after an idle stream; a compute kernel longer beside
    others.  Dealing such services at random is not the same queue: no replayed statistic."""
    t, s = _bursty(6000, 4)
    st = _lanes_queue(t, s, 1, False)
    assert replay.shuffled(*st, [0.95], warmup=300) is not None
    assert abs(replay.state_dependence(*st[1:], warmup=300)) < replay.STATE_RHO
    # the same queue, its requests that found the lane idle 30% slower
    n = t.size
    start, end = np.empty(n), np.empty(n)
    free = -math.inf
    for i in range(n):
        idle = free <= t[i]
        start[i] = max(t[i], free)
        end[i] = free = start[i] + s[i] * (1.3 if idle else 1.0)
    lane = np.zeros(n, dtype=np.int32)
    assert replay.state_dependence(t, start, end, lane, 300) <= -replay.STATE_RHO
    assert replay.shuffled(t, t, start, end, lane, [0.95], warmup=300) is None
    levels, why = replay.shuffled_why(t, t, start, end, lane, [0.95], warmup=300)
    assert levels is None and "depends on whether the lane was busy (Spearman -" in why


def test_no_replayed_statistic_for_a_batcher_or_a_failed_request() -> None:
    t, s = _bursty(3000, 5)
    _, d, st, e, lane = _lanes_queue(t, s, 1, False)
    st2, e2 = st.copy(), e.copy()
    st2[1::2], e2[1::2] = st2[::2][: st2[1::2].size], e2[::2][: e2[1::2].size]  # pairs run together
    assert replay.shuffled(t, d, st2, e2, lane, [0.95], warmup=100) is None
    assert "not FIFO servers" in replay.shuffled_why(t, d, st2, e2, lane, [0.95], warmup=100)[1]  # stamps
    # two lanes stamped as one: replayed as one FIFO lane the queue is another
    two = _lanes_queue(t, s * 1.6, 2, True)
    assert replay.shuffled(*two, [0.95], warmup=100) is not None
    one = replay.shuffled_why(*two[:4], np.zeros(t.size, dtype=np.int32), [0.95], warmup=100)
    assert one[0] is None and "did not serve requests as FIFO lanes replay them" in one[1], one
    e3 = e.copy()
    e3[500] = -1.0  # never ended
    assert replay.shuffled(t, d, st, e3, lane, [0.95], warmup=100) is None
    assert "never started or ended" in replay.shuffled_why(t, d, st, e3, lane, [0.95], warmup=100)[1]
    assert replay.shuffled_why(t, d, st, e, lane, [0.95], warmup=100)[1] == ""


def test_the_gate_compares_replayed_statistics_only_when_every_run_has_one() -> None:
    """Every run with one: the check says so and uses them (here they say +30% where the latencies
    are alike); one run without: the latencies, and no word of a replay."""
    spec = resolve({"p95_ms": 100.0, "rate_hz": 100.0}, nodeid="t::t")
    rng = np.random.default_rng(6)
    runs = [rng.lognormal(0.0, 0.3, 4000) for _ in range(6)]
    same = [{"p95": 1.0 + 0.001 * k} for k in range(3)]
    slower = [{"p95": 1.3 + 0.001 * k} for k in range(3)]
    m = gate.Measurements(runs[-1], np.zeros(4000), load_dependent=False)
    ab = gate.ABInput(tuple(runs[:3]), tuple(runs[3:]), base_shuffled=tuple(same), cand_shuffled=tuple(slower))
    check = gate.compare(spec, m, ab, gate.Policy())[0]
    assert check.outcome == "REGRESSED" and gate.SHUFFLED_WORDS in check.detail
    assert check.reason.endswith(f"({gate.SHUFFLED_REASON})")  # the markdown report lists reasons
    assert "p95" not in gate.SHUFFLED_REASON  # said of p50 and p99 claims too (review62: "not of the raw p95")
    assert view.change({"verdict": {"baseline": [check.as_dict()]}}).startswith("p95 replayed +35.0%")
    ab = gate.ABInput(tuple(runs[:3]), tuple(runs[3:]), base_shuffled=tuple(same), cand_shuffled=(*slower[:2], None))
    check = gate.compare(spec, m, ab, gate.Policy())[0]
    assert check.outcome != "REGRESSED" and gate.SHUFFLED_WORDS not in check.detail
    assert "replayed" not in view.change({"verdict": {"baseline": [check.as_dict()]}})
    base = gate.baseline_input(runs[:3], spec, paired=True, sessions=["a", "b", "c"], shuffled=same)
    check = gate.compare(spec, dataclasses.replace(m, shuffled={"p95": 1.3}), base, gate.Policy())[0]
    assert check.outcome == "REGRESSED" and gate.SHUFFLED_WORDS in check.detail
    check = gate.compare(spec, m, base, gate.Policy())[0]
    assert check.outcome != "REGRESSED" and gate.SHUFFLED_WORDS not in check.detail


def test_a_comparison_on_measured_levels_says_which_run_kept_none_and_why() -> None:
    """A user who sees "p95 replayed" explained but not used is told why in the check's detail
    (``-v``, JSON): the first run without a level, with the reason it recorded; nothing is said
    where no run has one and none says why (a simulator's bare Measurements)."""
    spec = resolve({"p95_ms": 100.0, "rate_hz": 100.0}, nodeid="t::t")
    rng = np.random.default_rng(11)
    runs = [rng.lognormal(0.0, 0.3, 4000) for _ in range(4)]
    own = [{"p95": stats.run_statistic(r, 0.95)} for r in runs]
    busy = "service depends on whether the lane was busy (Spearman -0.60)"
    m = gate.Measurements(runs[3], np.zeros(4000), load_dependent=False, shuffled=None, shuffled_off=busy)
    base = gate.baseline_input(runs[:3], spec, paired=True, sessions=["a", "b", "c"], shuffled=own[:3])
    check = gate.compare(spec, m, base, gate.Policy())[0]
    assert f"measured levels, not replayed (this run: {busy})" in check.detail
    older = gate.baseline_input(runs[:3], spec, paired=True, sessions=["a", "b", "c"])
    check = gate.compare(spec, dataclasses.replace(m, shuffled=own[3], shuffled_off=""), older, gate.Policy())[0]
    assert "(stored run 1 carries none" in check.detail
    check = gate.compare(spec, dataclasses.replace(m, shuffled_off=""), older, gate.Policy())[0]
    assert "not replayed" not in check.detail
    ab = gate.ABInput(tuple(runs[:2]), tuple(runs[2:]), base_shuffled=tuple(own[:2]), cand_shuffled=(own[2], None),
                      cand_shuffled_off=("", busy))
    check = gate.compare(spec, m, ab, gate.Policy())[0]
    assert f"(candidate run 2: {busy})" in check.detail


def test_a_replayed_level_far_from_its_run_is_not_used() -> None:
    """A stored level e-fold off its own run (an edited file) is not that run's replay: the
    latencies decide, and nothing overflows."""
    spec = resolve({"p95_ms": 100.0, "rate_hz": 100.0}, nodeid="t::t")
    rng = np.random.default_rng(7)
    runs = [rng.lognormal(0.0, 0.3, 4000) for _ in range(4)]
    own = [{"p95": stats.run_statistic(r, 0.95)} for r in runs]
    assert gate.shuffled_levels(own, runs, 0.95) is not None
    for bad in (1e300, own[0]["p95"] + 1.5):
        edited = [{"p95": bad}, *own[1:3]]
        assert gate.shuffled_levels(edited, runs[:3], 0.95) is None
        base = gate.baseline_input(runs[:3], spec, paired=True, sessions=["a", "b", "c"], shuffled=edited)
        m = gate.Measurements(runs[3], np.zeros(4000), load_dependent=False, shuffled=own[3])
        check = gate.compare(spec, m, base, gate.Policy())[0]
        assert check.outcome != "REGRESSED" and gate.SHUFFLED_WORDS not in check.detail


def test_a_lane_of_its_own_speed_keeps_it_in_the_replay() -> None:
    """Round-robin lanes: each lane's services are dealt among its own requests, so one slow lane
    that overloads (the independent check: a p95 x20 read +67% when dealt across lanes) stays
    overloaded; lanes sharing a queue whose services differ by lane get no replayed statistic."""
    rng = np.random.default_rng(8)
    n, lanes = 8000, 4
    t = np.cumsum(rng.exponential(1.0 / (0.75 * lanes), n))
    s = rng.lognormal(-0.125, 0.5, n) * np.where(np.arange(n) % lanes == 0, 1.4, 1.0)
    st = _lanes_queue(t * 1e6, s * 1e6, lanes, False)  # stamps in ns, as the recorder's
    got = replay.shuffled(*st, [0.95], warmup=400)
    assert got is not None
    measured = stats.run_statistic((st[3] - st[0])[400:] / 1e6, 0.95)
    assert abs(got[0.95] - measured) < 0.15, (got, measured)
    shared = _lanes_queue(t, rng.lognormal(-0.125, 0.5, n), lanes, True)
    assert replay.shuffled(*shared, [0.95], warmup=400) is not None
    slow_core = shared[2] + (shared[3] - shared[2]) * np.where(shared[4] == 0, 1.3, 1.0)
    assert "lanes' services differ" in replay.not_exchangeable(shared[1], shared[2], slow_core, shared[4], 400, False)


def test_no_replayed_statistic_where_the_machine_was_slow_for_a_while() -> None:
    """Slow periods within the run (a neighbour's burst): services correlate with the one before,
    and dealing them at random would move the level by itself (the independent check: -17%)."""
    t, s = _bursty(6000, 9)
    slow = np.where((t // 500) % 10 == 3, 1.5, 1.0)  # 10% of the time 1.5x slower
    st = _lanes_queue(t, s * rng_jitter(t.size) * slow, 1, False)
    assert replay.time_dependence(st[2], st[3], 300) < replay.EXCHANGE_P
    assert replay.shuffled(*st, [0.95], warmup=300) is None
    assert replay.shuffled(*_lanes_queue(t, s * rng_jitter(t.size), 1, False), [0.95], warmup=300) is not None


def rng_jitter(n: int) -> np.ndarray:
    """Services 1% apart, so that ranks are not all ties."""
    return np.random.default_rng(10).uniform(0.99, 1.01, n)



def test_a_faster_machine_shortens_an_idle_lane_by_its_factor_and_a_busy_one_by_more() -> None:
    """``sped_up``: with no queue the level falls by ln f; near saturation a few percent of speed
    empties the queue (the amplification a machine shift has there); a batcher has no replay."""
    def ns(rho: float) -> list[np.ndarray]:
        return [a * 1e6 if a.dtype.kind == "f" else a for a in _one_server(rho)]

    idle, busy = ns(0.02), ns(0.95)
    half = replay.sped_up(*idle, [0.95], 2.0, warmup=600)
    assert half is not None and half[0.95] == pytest.approx(-math.log(2.0), abs=0.01)
    small = replay.sped_up(*idle, [0.95], 1.05, warmup=600)
    near = replay.sped_up(*busy, [0.95], 1.05, warmup=600)
    assert small is not None and near is not None
    assert near[0.95] < 5 * small[0.95] < 0  # at 5% faster it falls five times as far or more
    assert replay.sped_up(*idle, [0.95], 1.0, warmup=600) == {0.95: 0.0}
    # punctual: the same falls where the generator was punctual; a stall's knock-on left out
    assert replay.sped_up(*busy, [0.95], 1.05, warmup=600, punctual=True) == pytest.approx(near)
    t, d, s, e, lane = _one_server(0.7, n=6000)
    d[3000:3060] = t[3060]  # a 60-request stall of the generator: they go out in one burst
    s2, e2, free = s.copy(), e.copy(), -math.inf
    for i in range(t.size):
        s2[i] = max(d[i], free)
        e2[i] = free = s2[i] + (e[i] - s[i])
    stalled = [a * 1e6 for a in (t, d, s2, e2)] + [lane]
    late = replay.sped_up(*stalled, [0.99], 1.5, warmup=600)
    on_time = replay.sped_up(*stalled, [0.99], 1.5, warmup=600, punctual=True)
    assert late is not None and on_time is not None and on_time[0.99] != pytest.approx(late[0.99])
    t, d, s, e, lane = _one_server(0.8, n=3000)
    s[1::2], e[1::2] = s[0::2], e[0::2]  # a batcher
    assert replay.sped_up(t * 1e6, d * 1e6, s * 1e6, e * 1e6, lane, [0.95], 1.1, warmup=100) is None


def _lanes_and_pool(a: np.ndarray, pool: np.ndarray, lanes: int, workers: int, order: str,
                    rng: np.random.Generator) -> np.ndarray:
    """Each request's wait for a lane in a small event simulation: ``lanes`` lanes take requests in
    order, each body calls a pool of ``workers`` that serves its queue in ``order`` and holds each
    call ``pool`` ms (0: no call)."""
    import heapq

    n, start = a.size, np.zeros(a.size)
    events = [(float(a[i]), 0, i) for i in range(n)]
    heapq.heapify(events)
    waiting: list[int] = []
    queued: list[int] = []
    free, busy = lanes, 0
    while events:
        now, kind, i = heapq.heappop(events)
        if kind == 0:
            waiting.append(i)
        elif kind == 1:
            queued.append(i)
        elif kind == 2:
            busy -= 1
            free += 1
        while free and waiting:
            j = waiting.pop(0)
            free -= 1
            start[j] = now
            heapq.heappush(events, (now, 1, j) if pool[j] > 0 else (now, 2, j))
            busy += pool[j] == 0  # a call-less body ends at once: its "done" frees no worker
        while busy < workers and queued:
            k = {"fifo": 0, "lifo": len(queued) - 1}.get(order, int(rng.integers(len(queued))))
            j = queued.pop(k)
            busy += 1
            heapq.heappush(events, (now + float(pool[j]), 2, j))
    return start - a


@pytest.mark.parametrize("order", ["fifo", "lifo", "random"])
def test_the_pool_wait_floor_holds_in_any_order_of_the_pools_queue_and_sees_an_overload(order: str) -> None:
    """review109 F1: an overloaded pool of sleeping workers beside busy neighbours was held back,
    since a wait in a queue counts as nothing there.  ``pool_start_floor`` is a floor under each
    request's wait for a lane from the pool's workers and each call's least work alone: never over
    what a simulation of lanes and pool gives, whatever order the pool serves in and whichever
    requests skip it, and it sees most of an overload's queue (1 worker, 10 ms calls at 200/s)."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        n, lanes, workers = int(rng.integers(30, 300)), int(rng.integers(1, 12)), int(rng.integers(1, 4))
        a = np.cumsum(rng.exponential(1.0, n) * rng.uniform(0.3, 4.0))
        pool = np.where(rng.random(n) < rng.uniform(0.0, 0.5), 0.0, rng.lognormal(0.0, 1.0, n))
        waited = _lanes_and_pool(a, pool, lanes, workers, order, rng)
        floor = replay.pool_start_floor(a, pool * rng.uniform(0.0, 1.0, n), workers, lanes)
        assert np.all(floor <= waited + 1e-9)
    a = np.arange(1000) * 5.0
    waited = _lanes_and_pool(a, np.full(1000, 10.0), 16, 1, order, rng)
    floor = replay.pool_start_floor(a, np.full(1000, 8.0), 1, 16)
    assert np.median(floor) > 0.5 * np.median(waited) > 1000.0
    assert not np.any(replay.pool_start_floor(a, np.full(1000, 4.0), 1, 16))  # within capacity: no floor


def _batcher(arrive: np.ndarray, duration: Callable[[int], float], size: int, workers: int, order: str,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each call's end and its batch's duration in a small simulation of ``workers`` workers each
    taking up to ``size`` queued calls at a time, chosen in ``order``; calls queue at ``arrive``."""
    n = arrive.size
    pending = list(np.argsort(arrive, kind="stable"))
    done, took = np.zeros(n), np.zeros(n)
    free, queued, k = [0.0] * workers, [], 0
    while k < n or queued:
        worker = min(range(workers), key=lambda x: free[x])
        now = free[worker] if queued or k >= n else max(free[worker], float(arrive[pending[k]]))
        while k < n and arrive[pending[k]] <= now:
            queued.append(pending[k])
            k += 1
        take = min(size, len(queued))
        if order == "fifo":
            chosen, queued = queued[:take], queued[take:]
        elif order == "lifo":
            chosen, queued = queued[len(queued) - take:], queued[: len(queued) - take]
        else:
            pick = set(rng.choice(len(queued), take, replace=False).tolist())
            chosen, queued = [queued[i] for i in sorted(pick)], [q for i, q in enumerate(queued) if i not in pick]
        d = duration(len(chosen))
        done[chosen], took[chosen] = now + d, d
        free[worker] = now + d
    return done, took


@pytest.mark.parametrize("order", ["fifo", "lifo", "random"])
def test_the_batch_latency_floor_holds_in_any_order_and_sees_the_readmes_bursty_incident(order: str) -> None:
    """The README's incident (a batcher of 4 sleeping 4 ms a batch, bursts at 5x the mean rate)
    beside busy neighbours: with 128 lanes no request waits for a lane, so the floor is on the
    latencies themselves (``pool_done_floor``): sorted, never over a simulation's, whatever order
    the batcher takes its queue in, calls arriving late or skipping it, on steady or bursty
    arrivals; in the incident its p95 is over the 20-ms budget."""
    rng = np.random.default_rng(11)
    for trial in range(60):
        n, size, workers = int(rng.integers(40, 300)), int(rng.integers(1, 6)), int(rng.integers(1, 3))
        if trial % 2:
            a = np.cumsum(rng.exponential(1.0, n)) * rng.uniform(0.2, 3.0)
        else:
            a = np.sort(rng.choice(np.arange(0, 3 * n, n // 5 + 1), n) + rng.uniform(0.0, rng.uniform(1, 20), n))
        base, per = rng.uniform(0, 5), rng.uniform(0, 3)
        done, took = _batcher(a + rng.uniform(0, 2, n), lambda k, b=base, c=per: b + c * k, size, workers,
                              order, rng)
        work = took / size * rng.uniform(0.5, 1.0, n) * (rng.random(n) < 0.9)
        assert np.all(np.sort(replay.pool_done_floor(a, work, workers)) <= np.sort(done - a) + 1e-9)
    a = np.concatenate([b * 250.0 + np.sort(rng.uniform(0, 50, 100)) for b in range(40)])
    done, _ = _batcher(a, lambda k: 4.0, 4, 1, order, rng)
    floor = replay.pool_done_floor(a, np.full(a.size, 4.0 / 1.25 / 4), 1)
    assert stats.quantile(floor, 0.95) > 20.0 and np.all(np.sort(floor) <= np.sort(done - a))
