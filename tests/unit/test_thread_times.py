"""Where a body spends its time on its lane's thread (``recorder.ThreadTimes``): what the
neighbours' rule may credit as a sleep (review39: a sleep over budget was held back as "may be
the neighbours'", which no neighbour stretches)."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo import gate
from pytest_gpuslo.backends import cpu
from pytest_gpuslo.recorder import Recorder, Request, RunData, StageTimes, ThreadTimes
from pytest_gpuslo.result import SloResult
from pytest_gpuslo.spec import SloSpec

MS = 1_000_000


def _result(times: ThreadTimes | None, telemetry: dict[str, float] | None = None) -> SloResult:
    n = 5
    start = np.arange(n, dtype=np.int64) * 200 * MS
    end = start + 100 * MS
    end[4] = -1  # never ended
    data = RunData(scheduled_ns=start.copy(), dispatch_ns=start.copy(), start_ns=start, end_ns=end,
                   lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages={}, timeout_ns=10**10,
                   threads=times)
    spec = SloSpec(budgets_ms={0.95: 50.0}, rate_hz=5.0, requests=n)
    # No children worked unless a test says so.
    return SloResult(spec=spec, data=data, warmup=0, backend="cpu", telemetry={"child_cpu_s": 0.0, **(telemetry or {})})


def _times() -> ThreadTimes:
    t = ThreadTimes.empty(5)
    t.cpu_ns[:4], t.runq_ns[:4], t.others_ns[:4] = 2 * MS, 3 * MS, 0
    t.others_ns[2] = 10 * MS  # the process's other threads computed meanwhile: maybe polled
    t.asleep[:] = [5, 1, 5, 0, 0]
    t.waiting[:] = [0, 1, 0, 0, 0]
    return t


def test_time_asleep_is_the_off_cpu_time_as_found_asleep_less_other_threads_work() -> None:
    """review40: requests never looked at read as 'waiting on something else' in the words, and
    K times the other lanes' CPU was taken off every sleep, so a sleeping body doing a little work
    on 8 lanes was held back; only threads other than the bodies' (``helper_cpu_s``) count now."""
    r = _result(_times())
    asleep = r.asleep_ms
    assert asleep is not None
    # 100 ms: 2 on a CPU, 3 waiting for one, 95 off it; found asleep 5 of 5, 1 of 2, 5 of 5 less
    # K (2) x 10 ms of the other threads' CPU, never seen: 0; never ended: NaN.
    assert np.allclose(asleep[:4], [95.0, 47.5, 75.0, 0.0]) and np.isnan(asleep[4])
    # The process's CPU outside the bodies' threads (helper_cpu_s) a small share of the sleep
    # found (the dispatcher's): nobody's work to poll, nothing taken off; a larger one: taken off.
    quiet = _result(_times(), {"helper_cpu_s": 0.01}).asleep_ms
    assert quiet is not None and np.allclose(quiet[:4], [95.0, 47.5, 95.0, 0.0])
    busy = _result(_times(), {"helper_cpu_s": 0.02}).asleep_ms  # over 5% of the 237.5 ms found asleep
    assert busy is not None and np.allclose(busy[:4], [95.0, 47.5, 75.0, 0.0])
    # Where the time went, as the looks found it (11 of 12 asleep, the never-looked-at request too).
    split = r.time_split()
    assert split == pytest.approx({"cpu": 0.02, "runq": 0.03, "asleep": 0.95 * 11 / 12,
                                   "other": 0.95 / 12}, abs=1e-4)
    m = r.measurements()
    assert m.asleep_ms is not None and m.time_split == split
    # Nothing credited where a sleep's wake-up or what it waits for cannot be trusted.
    assert _result(_times(), {"steal_cpus": 0.3}).asleep_ms is None  # a hypervisor's steal
    # Children worked over 5% of the sleep found (review41: a rounded 0.04 CPUs of children, 24 ms
    # a request at 1.5/s, passed a 0.05-CPU cut-off and their slowed work was credited as sleep).
    assert _result(_times(), {"child_cpu_s": 0.02}).asleep_ms is None
    assert _result(_times(), {"child_cpu_s": 0.01, "steal_cpus": 0.1}).asleep_ms is not None
    assert _result(_times(), {"child_cpu_s": None}).asleep_ms is None  # not known: nothing credited
    assert _result(None).asleep_ms is None and _result(None).time_split() is None


def test_thread_times_survive_a_later_look() -> None:
    """A sequential run's looks are joined; a look without thread times reads as not known."""
    a, b = _times(), _times()
    joined = a.then(b, 5)
    assert joined.asleep.tolist() == [5, 1, 5, 0, 0] * 2 and joined.cpu_ns.size == 10
    unknown = a.then(None, 3)
    assert unknown.cpu_ns[-3:].tolist() == [-1] * 3 and unknown.asleep[-3:].tolist() == [0] * 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_cpu_lanes_record_cpu_time_and_find_a_sleeping_body_asleep() -> None:
    """On real lanes: a body that sleeps is found asleep on a timer; one that computes is not,
    and its CPU time is recorded.  No timing claim: only where the thread was."""
    probe = cpu.wait_kind(open(f"/proc/self/task/{threading.get_native_id()}/wchan").read())
    assert probe == ""  # this thread is running
    assert cpu.wait_kind("hrtimer_nanosleep") == "asleep" and cpu.wait_kind("futex_wait_queue") == "waiting"

    release = threading.Event()

    def body(req: Request) -> None:
        if req.index == 0:
            while not release.is_set():
                time.sleep(0.005)
        else:
            end = time.thread_time() + 0.02
            while time.thread_time() < end:
                pass

    backend = cpu.Backend()
    rec = Recorder(2)
    rec.set_submitted(2)
    backend.open(1, body, rec)
    try:
        times = rec.threads
        assert times is not None
        backend.submit(Request(0, 0.0, None, rec))
        deadline = time.monotonic() + 20
        while times.asleep[0] < 3 and time.monotonic() < deadline:
            backend._next_look = 0.0
            backend.tick(time.perf_counter_ns() + 10**9)
            time.sleep(0.002)
        release.set()
        assert times.asleep[0] >= 3
        backend.submit(Request(1, 0.0, None, rec))
        backend.wait(time.perf_counter_ns() + 20 * 10**9)
    finally:
        release.set()
        backend.close()
    assert times.asleep[1] == 0 and times.cpu_ns[1] >= 15 * MS
    assert times.cpu_ns[0] >= 0 and times.runq_ns[0] >= 0 and times.others_ns[0] >= 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_a_run_on_cpu_lanes_keeps_its_thread_times() -> None:
    from pytest_gpuslo import arrivals
    from pytest_gpuslo.measurement import run_open_loop

    sched = arrivals.Poisson(50).schedule(n=20, rng=np.random.default_rng(1))
    backend = cpu.Backend()
    data, _ = run_open_loop(sched, backend, lambda r: time.sleep(0.02), lanes=2, timeout_s=10)
    assert data.threads is not None
    tel = backend.telemetry()  # what the gate weighs a sleep's credit against
    assert tel["child_cpu_s"] >= 0 and tel["helper_cpu_s"] >= 0
    ended = data.end_ns >= 0
    assert bool(np.all(data.threads.cpu_ns[ended] >= 0)) and bool(np.all(data.threads.runq_ns[ended] >= 0))
    assert bool(np.all(data.threads.slices[ended] >= 1))  # a 20-ms sleep: on a CPU before and after it


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_the_harness_thread_s_own_work_is_no_helper_s_but_another_thread_s_is() -> None:
    """The thread that opens, drains and closes the lanes does the harness's work (its looks at the
    waits while a backlog drains, its progress lines), which no body's sleep polls: it is left out
    of ``helper_cpu_s`` (review176 F1: 1.4 s of it over a 57-s drain took an over-capacity pool's
    sleep credit); a thread of the code's own that computes meanwhile still counts."""
    def run(background: bool) -> dict[str, Any]:
        backend = cpu.Backend()
        rec = Recorder(1)
        backend.open(1, lambda r: None, rec)
        helper = threading.Thread(target=_burn, args=(0.2,)) if background else None
        try:
            if helper is not None:
                helper.start()
                helper.join()
            _burn(0.2)  # the harness's own thread, no dispatcher tick in between
        finally:
            backend.close()
        tel = backend.telemetry()
        return tel

    quiet, busy = run(background=False), run(background=True)
    assert quiet["helper_cpu_s"] < 0.1 and busy["helper_cpu_s"] >= 0.15
    # on average over the run, as the held-back words name it (review188 F1: a BLAS pool's threads)
    assert busy["own_threads_cpus"] > 0.0 and quiet["own_threads_cpus"] < busy["own_threads_cpus"]


def test_a_request_s_own_time_leaves_out_what_other_requests_added() -> None:
    """The slow-stretch rule reads each request's own time: on one lane its service (nothing ran
    beside it); on several, its time on a CPU plus asleep (the wait for a CPU the lanes share and
    any other wait are left out); 0 where not known or never ended; None with no thread times on
    several lanes."""
    one = _result(_times()).own_times()
    assert one is not None
    own, asleep = one
    assert np.allclose(own, [100, 100, 100, 100, 0]) and np.allclose(asleep, [95.0, 47.5, 75.0, 0.0, 0.0])
    r = _result(_times())
    r.data.lane[:] = [0, 1, 0, 1, 0]
    several = r.own_times()
    assert several is not None
    assert np.allclose(several[0], [97.0, 49.5, 77.0, 2.0, 0.0]) and np.allclose(several[1], asleep)
    r = dataclasses.replace(r, data=dataclasses.replace(r.data, threads=None))
    assert r.own_times() is None
    m = r.measurements()
    assert m.own_ms is None and m.own_asleep_ms is None


def _served_times() -> ThreadTimes:
    t = _times()
    t.others_ns[:4] = 10 * MS  # a batcher's or a pool's worker computed meanwhile
    t.served[:] = [4, 0, 5, 0, 0]  # request 0: 4 of its 5 asleep looks its worker's sleep
    return t


def test_a_serving_worker_s_sleep_keeps_its_credit_where_the_workers_did_the_other_threads_work() -> None:
    """review106 F14, review108 F4: a body waiting on a pool's or a batcher's worker asleep on a
    timer is asleep (``ThreadTimes.served``); that worker's CPU is the body's own work on another
    thread, not work its sleep polls, so the other threads' CPU comes off the body's own sleep
    only where the serving workers (``served_cpu_s``) did nearly all of it."""
    # Other threads worked (helper_cpu_s over 5% of the sleep found): K (2) x 10 ms comes off.
    taken = _result(_served_times(), {"helper_cpu_s": 0.2}).asleep_ms
    assert taken is not None and np.allclose(taken[:4], [75.0, 27.5, 75.0, 0.0])
    # The serving workers did it: the workers' sleeps keep their credit, a body's own sleep not.
    # Request 0: 95 ms found asleep, 76 of them its worker's, 19 its own less 20: 76 in all.
    kept = _result(_served_times(), {"helper_cpu_s": 0.2, "served_cpu_s": 0.19}).asleep_ms
    assert kept is not None and np.allclose(kept[:4], [76.0, 27.5, 95.0, 0.0])
    # Other work beside the workers' (over 5% of the sleep found): every sleep may poll it.
    other = _result(_served_times(), {"helper_cpu_s": 0.2, "served_cpu_s": 0.1}).asleep_ms
    assert other is not None and np.allclose(other[:4], [75.0, 27.5, 75.0, 0.0])
    # review110 F1: a body's own sleep split over many wake-ups (a poll) is not credited; a
    # serving worker's sleep keeps its credit (its wake-ups are the worker's, not counted)
    polled = _served_times()
    polled.slices[:] = [60, 2, 60, 1, -1]  # request 0: 19 ms own sleep over 59 wake-ups; 2: all served
    pol = _result(polled, {"helper_cpu_s": 0.01}).asleep_ms
    assert pol is not None and np.allclose(pol[:4], [76.0, 47.5, 95.0, 0.0])
    # review109 F8: the own time is the lane's thread's: a serving worker's sleep is not in it
    # (its CPU is not either); the neighbours' rule credits it (asleep_ms above)
    own = _result(_served_times(), {"helper_cpu_s": 0.01}).own_times()
    assert own is not None and np.allclose(own[1], [19.0, 47.5, 0.0, 0.0, 0.0])
    # A worker serves a call only within the call's service stage: request 0 seen 4 of 5 times in
    # its worker's sleep over 95 ms off the CPU, its call served 30 ms, is credited 30 + its own 19;
    # request 2, all of its 95 ms served, 10 ms of it stamped, 10 (sparse looks on many lanes made a
    # tail of such credits a p95 "the body's own time" beside busy neighbours).
    begin = np.arange(5, dtype=np.int64) * 200 * MS
    r = _result(_served_times(), {"helper_cpu_s": 0.0})
    r = dataclasses.replace(r, data=dataclasses.replace(r.data, stages={"batch.service": StageTimes(
        np.where(np.arange(5) < 3, begin, -1), begin + np.array([30, 0, 10, 0, 0]) * MS)}))
    capped = r.asleep_ms
    assert capped is not None and np.allclose(capped[:4], [49.0, 47.5, 10.0, 0.0])
    mine = r.own_times()
    assert mine is not None and np.allclose(mine[1], [19.0, 47.5, 0.0, 0.0, 0.0])


def _one_lane_on_a_pool(fn: "Callable[[int], int]", n: int) -> tuple[Any, cpu.Backend, Recorder]:
    """One CPU lane whose body calls ``fn`` on a one-worker ``Stage.pool``, open for ``n`` requests."""
    from pytest_gpuslo.batching import Stage

    stage = Stage.pool("pre", fn, workers=1)
    backend = cpu.Backend()
    rec = Recorder(n)
    rec.set_submitted(n)
    backend.open(1, lambda req: stage._run(req.index, None), rec)
    return stage, backend, rec


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_a_body_waiting_on_a_pool_worker_reads_that_worker_s_wait() -> None:
    """A body blocked on ``Stage.pool``'s worker is found asleep where the worker sleeps on a timer
    (counted as ``served`` too), and waiting where the worker computes.  No timing claim."""
    from pytest_gpuslo.batching import Stage
    from pytest_gpuslo.recorder import served_cpu_ns

    release = threading.Event()

    def work(x: int) -> int:
        if x == 0:
            while not release.is_set():
                time.sleep(0.005)
        else:
            while not release.is_set():
                pass
        return x

    stage, backend, rec = _one_lane_on_a_pool(work, 2)
    cpu0 = served_cpu_ns()
    try:
        times = rec.threads
        assert times is not None
        for index in (0, 1):
            release.clear()
            backend.submit(Request(index, 0.0, None, rec))
            deadline = time.monotonic() + 20
            # (looks until 3 found what each is: a look may also find the call still queued, or
            # the worker runnable between its sleeps on a busy machine: "waiting")
            while (times.waiting[1] if index else times.asleep[0]) < 3 and time.monotonic() < deadline:
                backend._next_look = 0.0
                backend.tick(time.perf_counter_ns() + 10**9)
                time.sleep(0.002)
            release.set()
            while rec.end_ns[index] < 0 and time.monotonic() < deadline:
                time.sleep(0.002)
        backend.wait(time.perf_counter_ns() + 20 * 10**9)
    finally:
        release.set()
        backend.close()
        stage._close()  # type: ignore[misc]
    assert times.asleep[0] >= 3 and times.served[0] == times.asleep[0]
    assert times.asleep[1] == 0 and times.served[1] == 0 and times.waiting[1] >= 3
    from pytest_gpuslo.recorder import SERVED_BY
    assert not SERVED_BY  # nothing left marked once served
    stage2 = Stage.pool("spin", lambda x: x, workers=1)
    stage2._run(1, None)  # the next call counts the spinning call's CPU (a worker's tick)
    stage2._close()  # type: ignore[misc]
    assert served_cpu_ns() > cpu0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_an_overloaded_run_is_looked_at_until_its_last_request() -> None:
    """review108 F1, F2: the requests of an overloaded run that started after the drain's deadline,
    while the run waited for its lanes to come back, were never looked at, so their sleeps got a
    CPU's credit and a FAIL was held back as the neighbours'.  Now the wait looks on."""
    from pytest_gpuslo import arrivals
    from pytest_gpuslo.measurement import run_open_loop

    sched = arrivals.Poisson(1000).schedule(n=30, rng=np.random.default_rng(3))
    backend = cpu.Backend()
    data, _ = run_open_loop(sched, backend, lambda r: time.sleep(0.06), lanes=1, timeout_s=0.1)
    assert data.threads is not None
    # The first deadline: the last arrival + timeout_s + the driver's 1-s grace.
    late = (data.start_ns > int(data.scheduled_ns.max()) + int(1.1e9)) & (data.end_ns >= 0)
    assert late.sum() >= 3
    looked = (data.threads.asleep + data.threads.waiting)[late] > 0
    assert looked.mean() >= 0.5, looked


def test_a_hung_body_blocked_on_a_pool_worker_shows_where_that_worker_is() -> None:
    """review106 F5: a hung batch showed the lanes' fut.result() stacks, never the worker's."""

    release = threading.Event()

    def stuck_in_the_worker(x: int) -> int:
        release.wait(20)
        return x

    stage, backend, rec = _one_lane_on_a_pool(stuck_in_the_worker, 1)
    try:
        backend.submit(Request(0, 0.0, None, rec))
        deadline = time.monotonic() + 20
        from pytest_gpuslo.recorder import SERVED_BY
        while not SERVED_BY and time.monotonic() < deadline:
            time.sleep(0.002)
        backend._record_stuck(rec)
    finally:
        release.set()
        backend.wait(time.perf_counter_ns() + 20 * 10**9)
        backend.close()
        stage._close()  # type: ignore[misc]
    assert len(rec.stuck) == 1
    stack = rec.stuck[0][2]
    assert "waiting on thread 'gpuslo-pre-0'" in stack and "stuck_in_the_worker" in stack


def test_a_pool_s_workers_and_their_sleep_while_serving_make_the_floor_under_its_queue() -> None:
    """review109 F1: the queue in front of an overloaded ``Stage.pool`` of sleeping workers needs
    the pool's workers (``Recorder.pools``, from ``record_stage``) and each call's work: at least
    the sleep its worker was found in while serving it (``StageTimes.slept_ns``), no more than the
    call's stage time, counted ``SLEEP_SLOWDOWN`` x shorter, a batch's shared by as many calls as
    the batcher takes.  Only beside busy neighbours, and not where the code's other threads
    worked more than a twentieth of those sleeps (a worker's sleep may poll them)."""
    from pytest_gpuslo.batching import Stage, StagedService

    rec = Recorder(2)
    service = StagedService(Stage.pool("io", lambda x: x, workers=3), Stage.inline("post", lambda x: x))
    try:
        service(None, request=Request(0, 0.0, None, rec))
    finally:
        service.close()
    assert rec.pools == {"io.service": (3, 1)} and RunData.from_recorder(rec, np.zeros(2, np.int64), 0, 1.0).pools == (
        ("io.service", 3, 1),)
    assert rec.stage_slept["io.service"][0] == 0  # never looked at: no sleep credited
    begin = np.arange(5, dtype=np.int64) * 200 * MS
    slept = np.array([30, 0, 10, -1, -1]) * MS
    stages = {"io.service": StageTimes(begin, begin + np.array([30, 30, 5, 30, 30]) * MS, slept)}
    busy = {"other_cpu_load": 2.0, "cpus": 2, "helper_cpu_s": 0.0, "served_cpu_s": 0.0}
    r = _result(_times(), busy)

    def pools(batch: int = 1, **tel: float) -> tuple[gate.PoolWait, ...]:
        data = dataclasses.replace(r.data, stages=stages, pools=(("io.service", 2, batch),))
        return dataclasses.replace(r, data=data, telemetry={**r.telemetry, **tel}).pool_waits()

    (pool,) = pools()
    assert pool.name == "io" and pool.workers == 2 and pool.batch == 1
    assert np.allclose(pool.work_ms, np.array([30.0, 0.0, 5.0, 0.0, 0.0]) / gate.SLEEP_SLOWDOWN)
    assert pool.wait_ms.shape == (5,) and pool.done_ms is not None and np.allclose(pool.done_ms, np.array([30.0, 0, 5, 0, 0]) / gate.SLEEP_SLOWDOWN / 2)
    # a VM whose CPUs the hypervisor took: a worker's timer wakes late, no sleep is credited (as asleep_ms)
    assert pools(steal_cpus=0.5) == () and len(pools(steal_cpus=0.1)) == 1
    (batched,) = pools(batch=4)
    assert np.allclose(batched.work_ms, pool.work_ms / 4) and batched.batch == 4
    assert pools(helper_cpu_s=0.003) == () and len(pools(helper_cpu_s=0.003, served_cpu_s=0.003)) == 1
    assert dataclasses.replace(r, telemetry={"child_cpu_s": 0.0}).pool_waits() == ()  # a quiet machine
    # review174 F2: a lane left stuck at the give-up (a queue past timeout_s) kept no floor at all;
    # the lanes are then not replayed (each wait's floor 0), the work and so the capacity stand
    data = dataclasses.replace(r.data, stages=stages, pools=(("io.service", 2, 1),), stuck=((4, 0, "stack"),))
    (stuck,) = dataclasses.replace(r, data=data).pool_waits()
    assert np.allclose(stuck.work_ms, pool.work_ms) and not stuck.wait_ms.any() and stuck.done_ms is None


def test_a_serving_worker_s_sleep_is_its_wall_time_in_the_share_of_looks_found_asleep_unless_a_poll() -> None:
    """The dispatcher looks at each serving worker once a look (``recorder.SERVING``): a call's
    sleep is its wall time in the share found asleep on a timer, one wake-up's of it (review112 F4:
    a worker polling another process every 5 ms needed two polls beside busy loops); none where
    never looked at, or where that is under ``POLL_SLEEP_MS`` (a poll of work elsewhere, review109
    F4: a pool worker polling a computing helper thread every 0.5 ms)."""
    from pytest_gpuslo.recorder import ServedCall

    call = ServedCall()
    assert call.slept_ns(10 * MS) == 0
    call.asleep, call.looks, call.slices = 8, 10, 2
    assert call.slept_ns(10 * MS) == 8 * MS
    call.slices = 3  # 8 ms in two wake-ups: maybe a poll, whose count busy neighbours set: one counts
    assert call.slept_ns(10 * MS) == 4 * MS
    call.slices = 20  # 8 ms over 19 wake-ups: a poll
    assert call.slept_ns(10 * MS) == 0
    call.slices = -1  # not known: one wake-up
    assert call.slept_ns(10 * MS) == 8 * MS


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread times come from Linux /proc")
def test_a_run_on_cpu_lanes_finds_its_pool_workers_asleep() -> None:
    """A lane's body on a pool whose worker sleeps 20 ms: the dispatcher's looks find that worker
    asleep and the stage keeps its sleep, never over the call's time."""
    from pytest_gpuslo import arrivals
    from pytest_gpuslo.batching import Stage, StagedService
    from pytest_gpuslo.measurement import run_open_loop

    service = StagedService(Stage.pool("io", lambda x: time.sleep(0.02), workers=1))
    try:
        sched = arrivals.Poisson(20).schedule(n=12, rng=np.random.default_rng(1))
        data, _ = run_open_loop(sched, cpu.Backend(), lambda r: service(None, request=r), lanes=1, timeout_s=10)
    finally:
        service.close()
    st = data.stages["io.service"]
    assert st.slept_ns is not None and data.pools == (("io.service", 1, 1),)
    ran = st.end_ns >= 0
    assert bool(np.all(st.slept_ns[ran] <= st.end_ns[ran] - st.begin_ns[ran]))
    assert int(np.count_nonzero(st.slept_ns[ran] >= 10 * MS)) >= ran.sum() // 2


def test_a_stage_a_warm_up_request_never_left_is_named_where_no_measured_request_got_there() -> None:
    """review113 F1: every lane hung in the warm-up (a pool whose one worker the priming call
    blocked): no measured request started, and the stage table was empty.  A stage a warm-up
    request entered and never left is named then, with how many never left it."""
    r = _result(_times())
    r = dataclasses.replace(r, warmup=2, data=dataclasses.replace(r.data, stages={
        "x.queue": StageTimes(np.array([0, 0, -1, -1, -1]), np.array([-1, 5, -1, -1, -1])),
        "y.queue": StageTimes(np.array([0, 0, -1, -1, -1]), np.array([3, 5, -1, -1, -1]))}))
    stages = r.stages
    assert stages["x.queue"].open == 1 and stages["x.queue"].n == 0 and "y.queue" not in stages
