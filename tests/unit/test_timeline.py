"""Clock mapping and overlap arithmetic on synthetic event timestamps (no GPU needed)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_gpuslo import timeline
from pytest_gpuslo.timeline import Bracket, ClockMap, overlap, union


def test_clock_map_recovers_drift_and_offset() -> None:
    """Device clock runs 50 ppm fast; two anchors 10 s apart recover it to within the brackets."""
    true_offset, drift = 1_000_000_000, 50e-6
    # device elapsed e maps to host t = offset + e / (1 + drift)
    start = Bracket(true_offset - 6_000, true_offset + 6_000)
    elapsed = 10e9
    host_end = true_offset + elapsed / (1 + drift)
    end = Bracket(int(host_end) - 4_000, int(host_end) + 4_000)
    cmap = ClockMap.fit(start, end, elapsed)

    events = np.array([0.0, 2.5e9, 7e9, 10e9])
    expected = true_offset + events / (1 + drift)
    assert np.all(np.abs(cmap.to_host(events) - expected) <= cmap.error_ns + 1)
    assert cmap.drift_ppm == pytest.approx(-50, abs=2)
    assert 6_000 == cmap.error_ns


def test_clock_map_without_end_anchor_has_no_drift_correction() -> None:
    """One anchor: offset only, error = its half-width."""
    cmap = ClockMap.fit(Bracket(100, 120))

    assert 110 == cmap.to_host([0.0])[0]
    assert (1.0, 10.0) == (cmap.scale, cmap.error_ns)


def test_implausible_drift_is_refused() -> None:
    """A 1% 'drift' means a broken anchor, not a clock: the fit falls back to scale 1."""
    cmap = ClockMap.fit(Bracket(0, 10), Bracket(int(1.01e9), int(1.01e9) + 10), 1e9)

    assert 1.0 == cmap.scale


def _host_of(e: np.ndarray) -> np.ndarray:
    """A device clock whose drift against the host changes mid-run: +20 ppm, then -30 ppm."""
    e = np.asarray(e, dtype=float)
    knee = 1e9
    return np.where(e < knee, e * (1 + 20e-6), knee * (1 + 20e-6) + (e - knee) * (1 - 30e-6)) + 5e8


def test_anchors_during_the_run_follow_a_drift_that_changes() -> None:
    """Two anchors average a bent drift (tens of us wrong mid-run); the middle ones follow it."""
    later = [(e, Bracket(int(_host_of(e)) - 2_000, int(_host_of(e)) + 2_000))
             for e in np.arange(1, 21) * 1e8]
    start = Bracket(int(_host_of(0)) - 2_000, int(_host_of(0)) + 2_000)
    events = np.linspace(0, 2e9, 41)

    two = ClockMap.fit(start, later[-1][1], later[-1][0])
    many = ClockMap.fit_many(start, later)

    assert np.abs(two.to_host(events) - _host_of(events)).max() > 10_000
    assert np.abs(many.to_host(events) - _host_of(events)).max() <= many.error_ns + 1
    assert 21 == many.anchors
    assert many.bend_ns == pytest.approx(25_000, rel=0.01)  # what the straight line misses at the knee


def test_a_broken_middle_anchor_is_dropped_and_the_ends_extrapolate() -> None:
    """An anchor 5 ms off (a descheduled thread inside its bracket) is not a clock: it is skipped."""
    start = Bracket(-1_000, 1_000)
    good = [(1e9, Bracket(int(1e9) - 1_000, int(1e9) + 1_000)), (2e9, Bracket(int(2e9) - 1_000, int(2e9) + 1_000))]
    bad = (1.5e9, Bracket(int(1.5e9) + 5_000_000, int(1.5e9) + 5_002_000))

    cmap = ClockMap.fit_many(start, [*good, bad])

    assert 3 == cmap.anchors
    assert [-1_000_000, 1_500_000_000, 2_100_000_000] == cmap.to_host([-1e6, 1.5e9, 2.1e9]).tolist()


def test_union_merges_touching_and_nested_intervals() -> None:
    """[0,2) [1,3) [5,6) [5.5,5.8) -> [0,3) [5,6)."""
    u = union([(5, 6), (0, 2), (1, 3), (5.5, 5.8), (7, 7)])

    assert [[0, 3], [5, 6]] == u.tolist()


def test_overlap_of_copies_hidden_behind_compute() -> None:
    """Two streams: stream B's copies run during stream A's kernel; A's own copies do not."""
    ms = 1e6
    h2d = np.array([[0, 1], [2, 3]]) * ms      # A then B
    compute = np.array([[1, 5], [3, 7]]) * ms  # A's kernel 1-5, B's 3-7
    d2h = np.array([[5, 6], [7, 8]]) * ms
    ov = overlap(h2d, compute, d2h)

    assert 4.0 == ov.copy_ms
    assert 6.0 == ov.compute_ms
    assert 2.0 == ov.overlapped_ms      # B's h2d (2-3) and A's d2h (5-6) ran during kernels
    assert 50.0 == ov.percent
    assert 100.0 == ov.busy_percent


def test_overlap_ignores_stages_never_entered() -> None:
    """Rows stamped -1 (stage not entered) do not count."""
    ov = overlap([[-1, -1], [0, 1e6]], [[0, 2e6]], [[-1, -1]])

    assert 100.0 == ov.percent


def test_fifo_starts_charge_a_queued_request_from_the_previous_end_on_its_lane() -> None:
    """Two lanes. Request 2 was dispatched while lane 0 still ran request 0: it starts at request
    0's end, not at its start event 3 us later. Request 3 found lane 1 idle: its own start event."""
    from pytest_gpuslo.timeline import fifo_starts

    start = np.array([100, 110, 503, 900, -1], dtype=np.int64)   # start events, host ns
    end = np.array([500, 300, 800, 950, -1], dtype=np.int64)
    dispatch = np.array([90, 105, 200, 850, 960], dtype=np.int64)

    assert fifo_starts(start, end, dispatch, lanes=2).tolist() == [100, 110, 500, 900, -1]


def test_start_delay_counts_only_lag_while_the_request_s_lane_was_free() -> None:
    """Request 1 is sent 4 late while its lane is busy until 10: it would have waited anyway (0).
    Request 2 is sent 3 late onto a lane free since 10: all 3 count.  Request 3 never ran: its
    whole lag (5) counts.  On the second lane request 4 is sent 2 late onto an idle lane: 2."""
    from pytest_gpuslo.timeline import start_delay

    scheduled = np.array([0, 2, 20, 30, 40])
    dispatch = np.array([0, 6, 23, 35, 42])
    start = np.array([0, 10, 23, -1, 42])
    end = np.array([10, 15, 30, -1, 50])
    lane = np.array([0, 0, 0, -1, 1])

    assert start_delay(scheduled, dispatch, start, end, lane, shared=False).tolist() == [0, 0, 3, 5, 2]


def test_only_lag_that_delayed_a_completion_holds_a_verdict_back() -> None:
    """A 4 ms Python body on one lane held the dispatcher (the GIL) past a 5%-of-budget lag limit
    while its lane was busy anyway: that lag moved no latency, so it neither makes the verdict
    INCONCLUSIVE nor keeps the run out of the baseline store; without the split it still does."""
    from pytest_gpuslo import gate
    from pytest_gpuslo.spec import resolve, validate_marker

    spec = resolve(validate_marker((), {"rate_hz": 40, "p95_ms": 25, "requests": 4000}, "t"), nodeid="t")
    rng = np.random.default_rng(3)
    lat = rng.gamma(4.0, 1.2, 4000)  # ~5 ms, far under 25 ms
    lag = np.where(rng.random(4000) < 0.05, 2.0, 0.1)  # p99 2 ms > 1.25 ms
    t = np.arange(4000) * 25.0

    def verdict(delay: np.ndarray | None) -> gate.Verdict:
        return gate.decide(spec, gate.Measurements(lat + lag, lag, start_delay_ms=delay, scheduled_ms=t,
                                                   load_dependent=None))

    assert "generator_late" in verdict(None).conditions
    assert "generator_late" not in verdict(np.full(4000, 0.1)).conditions
    held = verdict(np.where(lag > 1, 1.5, 0.1))  # the lag did delay starts: still held
    assert "generator_late" in held.conditions and "(it delayed completions by 1.5 ms at p99)" in " ".join(held.reasons)


def test_launcher_hold_is_the_gap_to_a_dispatch_that_was_already_overdue() -> None:
    """Request 1 was due at 5 and went out at 100: the dispatcher was kept by request 0 from 0 to
    100.  Request 2 went out on time (its gap includes waiting for it): left out.  Request 3 went
    out 30 us late after request 2 kept the dispatcher 250 us; a request that never went out
    (-1) gives no gap either way."""
    from pytest_gpuslo.timeline import launcher_hold

    us = 1000
    scheduled = np.array([0, 5, 200, 420, 500, 600]) * us
    dispatch = np.array([0, 100, 200, 450, -1, 600]) * us

    assert launcher_hold(scheduled, dispatch).tolist() == [100 * us, 250 * us]
    assert launcher_hold(scheduled[:1], dispatch[:1]).size == 0


def test_a_stalls_knock_on_queue_is_the_generators_not_the_codes() -> None:
    """One lane, 8 units of service, arrivals every 10; the generator stalls and sends requests 1
    and 2 at 25 together.  Request 2 waits for request 1 only because request 1 started late: a
    punctual generator ends them at 18 and 28, so they ended 15 and 13 later.  The free-lane rule
    alone charged request 2's wait to the code (0)."""
    from pytest_gpuslo.timeline import start_delay

    scheduled = np.array([0, 10, 20, 40])
    dispatch = np.array([0, 25, 25, 40])
    start = np.array([0, 25, 33, 41])
    end = np.array([8, 33, 41, 49])
    lane = np.zeros(4, dtype=int)

    assert start_delay(scheduled, dispatch, start, end, lane).tolist() == [0, 15, 13, 1]


def test_a_lane_that_is_no_fifo_server_falls_back_to_the_free_lane_rule() -> None:
    """A batcher runs requests 0 and 1 at once on one lane (1 starts before 0 ends): the replay
    cannot give back the measured ends, so each request keeps the lag that found the lane free."""
    from pytest_gpuslo.timeline import start_delay

    scheduled = np.array([0, 1, 20])
    dispatch = np.array([0, 4, 23])
    start = np.array([0, 4, 23])
    end = np.array([10, 10, 30])
    lane = np.zeros(3, dtype=int)

    assert start_delay(scheduled, dispatch, start, end, lane).tolist() == [0, 0, 3]


def test_lanes_on_one_queue_are_replayed_as_that_queue() -> None:
    """Two threads on one queue, 10 units of service, arrivals every 4.  The generator stalls
    until 12: requests 1-3 go out at 12 together; 1 and 2 take the two lanes (ending at 22), 3
    follows on lane 0 (22-32).  A punctual generator ends them at 14, 20 and 24 (each to the lane
    free first): 8, 2 and 8 later.  Replayed on the lane the burst gave it, request 3 would have
    waited for request 2 on lane 0 (ending at 30): the lane-by-lane replay charged 6 units of the
    stall's queue to the code.  These lanes are not taken in turn, so the queue replay is chosen."""
    from pytest_gpuslo.timeline import start_delay

    scheduled = np.array([0, 4, 8, 12, 40])
    dispatch = np.array([0, 12, 12, 12, 40])
    start = np.array([0, 12, 12, 22, 40])
    end = np.array([10, 22, 22, 32, 50])
    lane = np.array([0, 1, 0, 0, 1])

    assert start_delay(scheduled, dispatch, start, end, lane).tolist() == [0, 8, 2, 8, 0]
    assert start_delay(scheduled, dispatch, start, end, lane, shared=False).tolist() == [0, 8, 2, 2, 0]


def test_own_dispatch_is_the_launchers_own_queue() -> None:
    """A launcher that spends each body's own host time: requests due at 0, 1, 2 with bodies of 3,
    4 and 1 units go out at 0, 3, 7; one due at 20 finds it free; one never sent (-1) keeps its
    arrival.  A body that never returned (-1) holds the thread to the end.  The closed form agrees
    with the recursion on a random schedule and random host times."""
    from pytest_gpuslo.timeline import own_dispatch

    t = np.array([0, 1, 2, 20, 21])
    assert own_dispatch(t, np.array([0, 5, 9, 20, -1]), np.array([3, 4, 1, 2, 0])).tolist() == [0, 3, 7, 20, 21]
    assert own_dispatch(t[:3], t[:3], np.array([3, -1, 1]))[2] > 10**15
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.integers(0, 10, 500))
    h = rng.integers(0, 12, 500)
    loop, prev = [], None
    for x, hx in zip(t.tolist(), [0, *h[:-1].tolist()]):
        prev = x if prev is None else max(x, prev + hx)
        loop.append(prev)
    assert own_dispatch(t, t + 1, h).tolist() == loop


def test_the_stall_delay_is_the_lateness_beyond_the_bodies_own_host_time() -> None:
    """One lane, service 1 unit; requests due every 400 us, each body returns 505 us after its
    dispatch (500 us its own, 5 us the harness's submit): each request goes out later than the
    last, and the start delay grows past 8 ms: the code's queue on the thread, but for the
    harness's 5 us a request, the only part of it in the stall delay.  A 3 ms stall of the thread after request 30 returned, between two bodies, is not
    the bodies': it adds 3 ms to every later stall delay.  Without the return times every lateness
    counts (the start delay)."""
    from pytest_gpuslo.timeline import stall_delay, start_delay

    us = 1000
    n = 60
    t = np.arange(n) * 400 * us
    gap = np.full(n, 505 * us)
    gap[30] += 3000 * us
    d = np.concatenate(([0], np.cumsum(gap[:-1])))
    returned = d + 505 * us
    start, end, lane = d + 1, d + 2, np.zeros(n, dtype=int)

    late = start_delay(t, d, start, end, lane)
    stall = stall_delay(t, d, start, end, lane, returned, harness_ns=5 * us)
    assert late[29] == d[29] - t[29] and late[-1] > 8000 * us
    assert stall.tolist() == [5 * us * i + (3000 * us if i > 30 else 0) for i in range(n)]
    assert stall_delay(t, d, start, end, lane, None).tolist() == late.tolist()


def test_the_machine_s_part_of_a_lateness_is_the_cpu_waits_meanwhile_and_the_rest_the_gil_s() -> None:
    """``machine_late``: of a 10-ms lateness, the dispatcher's own 2 ms waiting for a CPU plus a
    lane's wait spread over its body (4 ms over a 20-ms body, 2 ms of it in the window) is the
    machine's; the rest is the GIL the bodies held.  Unknown (-1) is all the machine's, and the
    part never exceeds the lateness."""
    from pytest_gpuslo.timeline import machine_late, spread_over

    got = spread_over(np.array([0, 100]), np.array([20, 110]), np.array([4, 50]), np.array([5, 0]), np.array([10, 200]))
    assert got == pytest.approx([1.0, 54.0])
    sched = np.array([0, 100, 200, 300], np.int64) * 1_000_000
    disp = sched + np.array([0, 10, 10, 10]) * 1_000_000
    runq = np.array([0, 2, -1, 30], np.int64) * 1_000_000
    start, end = np.array([-1, 95, -1, -1]) * 1_000_000, np.array([-1, 115, -1, -1]) * 1_000_000
    lanes = np.array([-1, 4, -1, -1], np.int64) * 1_000_000
    assert machine_late(sched, disp, runq, precision_ns=0).tolist() == [0, 2_000_000, 10_000_000, 10_000_000]
    assert machine_late(sched, disp, runq, start, end, lanes, precision_ns=0).tolist() == [
        0, 4_000_000, 10_000_000, 10_000_000]
    # and the dispatcher's own precision (0.2 ms) is the generator's too
    assert machine_late(sched, disp, runq).tolist() == [0, 2_200_000, 10_000_000, 10_000_000]


def test_a_frozen_dispatcher_is_told_from_one_waiting_for_the_gil_by_its_wake_ups() -> None:
    """review148 F1, review149 F2: a stopped process neither runs nor waits for a CPU, so its
    lateness read as the GIL's (the code's); process CPU time could not tell it from a body holding
    the GIL in a blocking call.  A thread waiting for the GIL wakes every switch interval: 19
    wake-ups through a 10-ms ``PyDLL`` usleep on a 2-core VM, 2 through a 650-ms SIGSTOP."""
    from pytest_gpuslo.timeline import FROZEN_SLACK_NS, frozen_ns

    ms = 1_000_000
    assert frozen_ns(10 * ms, 0, 0, 0, 19) == 0  # the GIL's
    assert frozen_ns(500 * ms, 0, 10 * ms, 0, 900) == 0  # a long GIL-holding call, waking all along
    assert frozen_ns(650 * ms, 0, 0, 0, 2) == 650 * ms - 2 * 2 * ms - FROZEN_SLACK_NS  # stopped
    # a sleep to a deadline, time on a CPU and a wait for one are not a freeze
    assert frozen_ns(650 * ms, 400 * ms, 100 * ms, 100 * ms, 1) == 650 * ms - 600 * ms - 2 * ms - FROZEN_SLACK_NS
    assert frozen_ns(650 * ms, 700 * ms, 0, 0, 1) == 0
    assert frozen_ns(650 * ms, 0, -1, -1, -1) == 0  # not known: not counted
    # frozen time is the machine's, on a quiet machine too (where a wait for a CPU is the code's)
    from pytest_gpuslo.timeline import machine_late

    sched = np.array([0, 100], np.int64) * ms
    disp = sched + 300 * ms
    assert machine_late(sched, disp, np.zeros(2, np.int64), quiet=np.array([True, True]), precision_ns=0,
                        frozen=np.array([0, 250 * ms])).tolist() == [0, 250 * ms]


def test_a_freeze_inside_a_body_is_the_machine_s_for_it_and_the_queue_behind_it() -> None:
    """review149 F1: a freeze that lands inside a body lengthens its service, and on one lane the
    requests queued behind it then waited on a busy lane, which the replay counted as no lateness:
    the code's.  The dispatcher's frozen span (it ends at the dispatch whose reading found it)
    is taken out of the bodies it overlaps, within their time off a CPU, in the punctual replay."""
    from pytest_gpuslo.timeline import frozen_service, frozen_since, start_delay

    ms = 1_000_000
    # one lane, a request every 10 ms taking 1 ms; request 3's body is frozen 400 ms (from 31 ms on);
    # the dispatcher, stopped too, sends 4..43 at 431 ms, the reading at request 4 finding the span.
    n = 50
    t = np.arange(n, dtype=np.int64) * 10 * ms
    d = t.copy()
    d[4:44] = 431 * ms + np.arange(40) * 10_000
    spans = np.zeros(n, np.int64)
    spans[4] = 395 * ms  # found frozen: a little less than the 400 ms
    s, e = np.empty(n, np.int64), np.empty(n, np.int64)
    free = 0
    for i in range(n):
        s[i] = max(d[i], free)
        e[i] = s[i] + (401 * ms if i == 3 else ms)
        free = e[i]
    lane = np.zeros(n, np.int32)
    cpu, runq = np.full(n, ms, np.int64), np.zeros(n, np.int64)

    since = frozen_since(t, d, spans)
    assert since[:4].tolist() == [0] * 4 and since[4] == 395 * ms and since[44:].tolist() == [0] * 6
    assert since[5] == 395 * ms  # its deadline (50 ms) fell in the span that ended at 431 ms
    excused = frozen_service(s, e, d, spans, cpu, runq)
    assert excused[3] == 395 * ms and excused[np.arange(n) != 3].sum() == 0
    # the body's own off-CPU time bounds it: a body that ran throughout was not frozen
    assert frozen_service(s, e, d, spans, np.full(n, 401 * ms), runq)[3] == 0
    before = start_delay(t, d, s, e, lane)
    after = start_delay(t, d, s, e, lane, excused_ns=excused)
    assert before[3] == 0 and after[3] == 395 * ms  # its own service held the freeze
    assert after[10] > 300 * ms >= before[10]  # the queue behind it: the freeze's, not the code's
    assert after[48:].tolist() == before[48:].tolist() == [0] * 2  # once the queue drained
    # review152 F3: a lane the FIFO replay cannot reproduce falls back to the free-lane rule, which
    # must take the frozen service out too (a 1-lane run read delay 0.2 ms beside a 1.99-s stop)
    s2 = s.copy()
    s2[46] = e[45] - 500_000  # started before the previous one ended: not a FIFO lane
    assert start_delay(t, d, s2, e, lane)[4] <= 1 * ms
    fallback = start_delay(t, d, s2, e, lane, excused_ns=excused)
    assert fallback[3] == 395 * ms and fallback[4] > 300 * ms


def test_a_body_s_frozen_time_is_its_overlap_with_every_frozen_window() -> None:
    """``frozen_service`` finds each body's overlap with the frozen windows by search (a busy machine
    may leave thousands of small ones): the same as adding the overlaps window by window."""
    from pytest_gpuslo.timeline import frozen_service

    rng = np.random.default_rng(7)
    n = 400
    d = np.cumsum(rng.integers(1_000, 50_000, n)).astype(np.int64)
    spans = np.where(rng.random(n) < 0.3, rng.integers(0, 900, n), 0).astype(np.int64)  # inside each gap
    s = d + rng.integers(0, 5_000, n)
    e = s + rng.integers(0, 200_000, n)
    s[::37], e[::37] = -1, -1  # never ran
    want = np.zeros(n, np.int64)
    for k in np.flatnonzero(spans > 0):
        lo, hi = d[k] - spans[k], d[k]
        want += np.where(s >= 0, np.clip(np.minimum(e, hi) - np.maximum(s, lo), 0, None), 0)
    assert frozen_service(s, e, d, spans).tolist() == want.tolist() and want.sum() > 0


def test_a_wait_for_a_cpu_while_the_machine_was_quiet_is_the_code_s() -> None:
    """review58: on an idle 2-core VM the dispatcher waited 2-3 ms for a CPU during each 5-ms GIL
    hold of a body (the GIL handed back wakes it behind the holder on its CPU), and the verdict
    said "the load generator fell behind".  Where other processes kept the machine quiet around
    a dispatch, its waits for a CPU are the code's; where they were busy, the machine's."""
    from pytest_gpuslo.timeline import machine_late, quiet_at

    windows = [(0, 500_000_000, 0.02), (500_000_000, 1_000_000_000, 1.9)]
    at = np.array([100_000_000, 700_000_000, 2_000_000_000], np.int64)
    quiet = quiet_at(at, windows)
    assert quiet is not None and quiet.tolist() == [True, False, False]  # none measured after 1 s
    assert quiet_at(at, None) is None
    sched = at - 5_000_000
    runq = np.full(3, 3_000_000, np.int64)
    assert machine_late(sched, at, runq, quiet=quiet, precision_ns=0).tolist() == [0, 3_000_000, 3_000_000]


def test_a_start_delay_never_exceeds_the_wait_before_its_start() -> None:
    """review163 F3: the shared queue's replay, off by a thread's wake-up order, gave a request a
    delay longer than its latency, whose latency from the dispatch then read negative and turned
    an A/B's +86% INCONCLUSIVE.  Here the last request started the moment it was scheduled, yet
    the replay queued it behind another: no lateness can have delayed it."""
    t = np.array([3, 5, 13, 15, 18], np.int64)
    d = np.array([7, 5, 13, 17, 18], np.int64)
    s = np.array([11, 5, 15, 22, 18], np.int64)
    e = np.array([17, 10, 21, 25, 22], np.int64)
    lane = np.array([0, 0, 1, 1, 0])
    delay = timeline.start_delay(t, d, s, e, lane, shared=True)
    assert delay.tolist() == [4, 0, 0, 2, 0]
    assert np.all(delay <= s - t)
