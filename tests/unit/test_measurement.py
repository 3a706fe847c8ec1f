"""Open-loop accounting: latency from the scheduled arrival, checked against queueing theory."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_gpuslo import arrivals, gate
from pytest_gpuslo.arrivals import build_schedule, trace
from pytest_gpuslo.backends import BaseBackend
from pytest_gpuslo.backends.cpu import Backend as CpuBackend
from pytest_gpuslo.errors import InvalidArgument
from pytest_gpuslo.measurement import payload_picker, run_open_loop
from pytest_gpuslo.recorder import Recorder, Request, RunData
from pytest_gpuslo.result import SloResult
from pytest_gpuslo.spec import resolve, validate_marker


def lindley(arrival_ns: np.ndarray, service_ns: np.ndarray) -> np.ndarray:
    """Sojourn times of a FIFO single server: W_i = max(0, W_{i-1} + S_{i-1} - A_i), T_i = W_i + S_i."""
    w = np.zeros(arrival_ns.size)
    for i in range(1, arrival_ns.size):
        w[i] = max(0.0, w[i - 1] + service_ns[i - 1] - (arrival_ns[i] - arrival_ns[i - 1]))
    return w + service_ns


class VirtualClock:
    """A clock that only moves when the dispatcher sleeps: dispatch is exact and deterministic."""

    def __init__(self) -> None:
        self.t = 10**12

    def __call__(self) -> int:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(1, int(round(seconds * 1e9)))


class SimulatedServer(BaseBackend):
    """A one-lane backend that runs in virtual time: start = max(dispatch, previous end)."""

    name = "sim"

    def __init__(self, clock: VirtualClock, service_ns: np.ndarray) -> None:
        self.clock, self.service_ns, self.free_at = clock, service_ns, 0

    def open(self, lanes: int, body: Callable[[Request], Any], recorder: Recorder) -> None:
        self.rec, self.body = recorder, body

    def prime(self, req: Request, timeout_s: float) -> None:
        pass

    def submit(self, req: Request) -> None:
        start = max(self.clock(), self.free_at)
        self.free_at = start + int(self.service_ns[req.index])
        self.rec.start_ns[req.index], self.rec.end_ns[req.index] = start, self.free_at
        self.rec.lane[req.index] = 0
        self.body(req)
        self.rec.complete_one()

    def wait(self, deadline_ns: int) -> None:
        pass

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"backend": "sim"}


def make_result(schedule: np.ndarray, data: Any, warm: int = 0) -> SloResult:
    spec = resolve(validate_marker((), {"rate_hz": 100, "p95_ms": 50}, "t"), nodeid="t")
    return SloResult(spec=spec, data=data, warmup=warm, backend="sim")


def test_accounting_matches_lindley_exactly_on_a_virtual_clock() -> None:
    """With exact dispatch, every latency equals the Lindley sojourn time to the nanosecond."""
    rng = np.random.default_rng(5)
    sched = arrivals.Poisson(700).schedule(n=3000, rng=rng)
    service = np.rint(rng.lognormal(np.log(1e6), 0.3, 3000))  # ~1 ms: utilisation ~0.7
    clock = VirtualClock()
    data, _ = run_open_loop(sched, SimulatedServer(clock, service), lambda r: None, lanes=1,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    result = make_result(sched, data)

    expected_ms = lindley(sched.astype(float), service) / 1e6
    assert np.allclose(expected_ms, result.latency_ms, atol=1e-6)
    assert np.all(result.lag_ms == 0)
    assert result.latency_ms.max() > 5 * np.median(service) / 1e6  # queueing is really there


def test_latency_is_charged_from_the_schedule_not_the_dispatch() -> None:
    """A late dispatcher does not hide waiting: latency grows with the lag (no coordinated omission)."""

    class LateClock(VirtualClock):
        def sleep(self, seconds: float) -> None:
            self.t += max(1, int(round(seconds * 1e9))) + 3_000_000  # oversleeps 3 ms each time

    clock = LateClock()
    sched = arrivals.Constant(100).schedule(n=50)
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(50, 1e6)), lambda r: None,
                            lanes=1, timeout_s=60, clock=clock, sleep=clock.sleep)
    result = make_result(sched, data)

    assert np.all(result.lag_ms >= 3.0)
    assert np.allclose(result.latency_ms, result.lag_ms + 1.0)


def test_cpu_backend_charges_at_least_the_queueing_the_dispatches_imply() -> None:
    """One real lane, a sleeping body, Poisson arrivals at utilisation ~0.6, 600 requests.

    Whatever the machine's load, a FIFO lane starts a request no earlier than its dispatch and
    the previous request's end, so each measured latency (from the *scheduled* arrival) is at
    least the Lindley sojourn time computed from the actual dispatches and service times, plus
    the dispatcher's own lateness.  Coordinated omission (charging from the start of service)
    would break this bound by the queueing wait.  How close the two are on a quiet machine is a
    timing figure: benchmarks/dispatch.py measures it (docs/validation.md).
    """
    rng = arrivals.make_rngs(11)["arrivals"]
    sched = arrivals.Poisson(200).schedule(n=600, rng=rng)
    data, _ = run_open_loop(sched, CpuBackend(), lambda r: time.sleep(0.003), lanes=1, timeout_s=10)
    result = make_result(sched, data)
    service_ns = (data.end_ns - data.start_ns).astype(float)
    dispatched_ns = data.dispatch_ns.astype(float)
    floor_ms = (lindley(dispatched_ns, service_ns) + (dispatched_ns - sched)) / 1e6
    wait_ms = (data.start_ns - data.scheduled_ns) / 1e6

    assert np.all(data.start_ns >= data.dispatch_ns) and np.all(data.dispatch_ns >= data.scheduled_ns)
    assert np.all(data.start_ns[1:] >= data.end_ns[:-1])  # one lane: first in, first out
    assert np.all(result.latency_ms >= floor_ms - 1e-6)
    assert np.allclose(result.latency_ms, wait_ms + service_ns / 1e6)
    assert wait_ms.max() > 0  # the bound has teeth: requests did queue


def test_cpu_lanes_run_in_parallel_for_gil_releasing_bodies() -> None:
    """Four lanes, a 20 ms sleeping body, 40 arrivals at once: the lanes overlap in time (a
    serialised body would never have two requests running at once) and all four are used."""
    sched = np.zeros(40, dtype=np.int64)
    data, _ = run_open_loop(sched, CpuBackend(), lambda r: time.sleep(0.02), lanes=4, timeout_s=10)
    events = sorted([(int(t), 1) for t in data.start_ns] + [(int(t), -1) for t in data.end_ns])
    running = np.cumsum([step for _, step in events])

    assert running.max() >= 2
    assert set(data.lane.tolist()) == {0, 1, 2, 3}


def test_errors_and_hung_bodies_are_bounded_and_counted() -> None:
    """A raising request is recorded with its traceback; a hung one times out and is abandoned."""
    release = threading.Event()

    def body(req: Request) -> None:
        if req.index == 3:
            raise ValueError("boom at 3")
        if req.index == 5:
            release.wait(30)

    sched = arrivals.Constant(1000).schedule(n=8)
    t = time.perf_counter()
    data, _ = run_open_loop(sched, CpuBackend(), body, lanes=2, timeout_s=0.2)
    elapsed = time.perf_counter() - t
    release.set()
    result = make_result(sched, data)

    assert elapsed < 8.0  # timeout 0.2 s + 1 s grace, with room for a busy machine; a hang is 30 s
    assert result.failed[3] and "ValueError: boom at 3" in (data.first_error or "")
    assert result.timed_out[5]
    assert np.all(result.latency_ms[[3, 5]] >= 200.0)


class InlineServer(SimulatedServer):
    """Runs the body on the dispatcher's thread, like the CUDA backend, on the real clock."""

    inline_body = True

    def __init__(self) -> None:
        super().__init__(VirtualClock(), np.zeros(1000, np.int64))
        self.clock = time.perf_counter_ns  # type: ignore[assignment]
        self.ticks: list[int] = []
        self.initialised_on: str | None = None

    def thread_init(self) -> None:
        self.initialised_on = threading.current_thread().name

    def tick(self, until_ns: int) -> None:
        self.ticks.append(until_ns)

    def submit(self, req: Request) -> None:
        self.rec.start_ns[req.index] = self.clock()
        self.body(req)
        self.rec.end_ns[req.index] = self.clock() + 1
        self.rec.complete_one()


def test_a_body_that_blocks_the_launching_thread_is_given_up_with_its_place() -> None:
    """An inline (CUDA-style) body that never returns fails the run after timeout_s, naming it."""
    release = threading.Event()

    def stuck_here(req: Request) -> None:
        if req.index == 4:
            release.wait(30)

    backend = InlineServer()
    t = time.perf_counter()
    with pytest.raises(Exception, match=r"request 4's body has blocked the launching thread for more than 0.3 s") as info:
        run_open_loop(arrivals.Constant(1000).schedule(n=20), backend, stuck_here, lanes=1, timeout_s=0.3)
    elapsed = time.perf_counter() - t
    release.set()

    assert elapsed < 8.0  # timeout 0.3 s, with room for a busy machine; a hang would be 30 s
    assert "stuck_here" in str(info.value)  # the stack of the stuck thread
    assert "gpuslo-dispatch" == backend.initialised_on


def test_backend_chores_run_only_where_the_schedule_leaves_a_millisecond() -> None:
    """tick() is offered before deadlines >= 1 ms away (200/s: each one), never at 20,000/s.
    (Virtual clock: on the real one a late dispatcher has less slack, and fewer ticks.)"""
    slow, fast = InlineServer(), InlineServer()
    for server in (slow, fast):
        server.clock = VirtualClock()  # type: ignore[assignment]
        server.sleep = server.clock.sleep  # type: ignore[attr-defined]

    run_open_loop(arrivals.Constant(200).schedule(n=10), slow, lambda r: None, lanes=1, timeout_s=1)
    data, _ = run_open_loop(arrivals.Constant(20_000).schedule(n=200), fast, lambda r: None, lanes=1, timeout_s=1)

    assert len(slow.ticks) == 10
    assert len(fast.ticks) == 1  # only the first deadline, 2 ms after the start, leaves slack
    assert np.all(data.end_ns > 0)


def test_stage_times_are_recorded_per_request() -> None:
    """req.stage(name) times a named part on the host clock: at least the 2 ms it sleeps, and
    inside the request's own start and end."""

    def body(req: Request) -> None:
        with req.stage("prep"):
            time.sleep(0.002)

    sched = arrivals.Constant(500).schedule(n=20)
    data, _ = run_open_loop(sched, CpuBackend(), body, lanes=2, timeout_s=5)
    stage = make_result(sched, data).stages["prep"]
    times = data.stages["prep"]

    assert 20 == stage.n
    assert np.all(times.end_ns - times.begin_ns >= 2_000_000)
    assert np.all(times.begin_ns >= data.start_ns) and np.all(times.end_ns <= data.end_ns)


@pytest.mark.parametrize(
    ("kw", "n_total", "warm"),
    [
        ({"requests": 100, "warmup_requests": 10}, 110, 10),
        ({"requests": 100, "warmup_s": 0.05}, 105, 5),
        ({"duration_s": 1.0, "warmup_s": 0.1}, 110, 10),
        ({"duration_s": 1.0, "warmup_requests": 7}, 107, 7),
    ],
)
def test_warmup_is_scheduled_before_the_measured_window(kw: dict[str, Any], n_total: int, warm: int) -> None:
    """Warm-up requests come first at the same rate and are excluded from the verdict."""
    sched, w = build_schedule(arrivals.Constant(100), seed=1, **{
        "requests": None, "duration_s": None, "warmup_requests": None, "warmup_s": None, **kw})

    assert (n_total, warm) == (sched.size, w)
    assert np.all(np.diff(sched) > 0)


@pytest.mark.parametrize("prebuilt", [0, 7, 10_000])
def test_requests_prebuilt_or_not_reach_the_body_alike(monkeypatch: pytest.MonkeyPatch, prebuilt: int) -> None:
    """Requests are built before the clock up to PREBUILT_MAX, the rest in the loop: the body sees
    the same index, scheduled time and payload either way, and a dispatched request's payload is
    not kept alive by the dispatcher for the rest of the run."""
    import gc
    import weakref

    from pytest_gpuslo import measurement

    monkeypatch.setattr(measurement, "PREBUILT_MAX", prebuilt)

    class Payload:
        def __init__(self, i: int) -> None:
            self.i = i

    seen: list[tuple[int, float, int]] = []
    alive_at_20: list[int] = []
    refs: list[weakref.ref[Payload]] = []

    def payloads(i: int) -> Payload:
        p = Payload(i)
        refs.append(weakref.ref(p))
        return p

    def body(r: Request) -> None:
        seen.append((r.index, r.scheduled_ms, r.payload.i))
        if r.index == 20:
            gc.collect()
            alive_at_20.append(sum(ref() is not None for ref in refs[:15]))

    clock = VirtualClock()
    sched = arrivals.Constant(1000).schedule(n=30)
    run_open_loop(sched, SimulatedServer(clock, np.full(30, 5e5)), body, lanes=1, timeout_s=60,
                  clock=clock, sleep=clock.sleep, payloads=payloads, prime=False)

    assert seen == [(i, sched[i] / 1e6, i) for i in range(30)]
    assert alive_at_20 == [0]


def test_capacity_table_marks_ratios_that_are_only_bounds() -> None:
    """The H200 table read "harness / closed 0.00" for an empty body whose bare loop ran 24 million
    a second (the ladder stops at 200,000/s) and "1.20" where the harness held the top rung: such
    cells say "-" and ">=" with a note, and a ratio inside the ladder prints plainly."""
    from pytest_gpuslo.capacity import MAX_REFERENCE_HZ, Row, table

    ladder = (0.2, 0.4, 0.6, 0.8, 1.0, 1.2)
    empty = Row("cuda", "empty", 24e6, 1.2 * MAX_REFERENCE_HZ, 0.6 * MAX_REFERENCE_HZ,
                tuple((f * MAX_REFERENCE_HZ, 1.0, 1.0) for f in ladder))
    cpu = Row("cpu", "sleep", 20_000, 24_000, 24_000, tuple((f * 20_000, 1.0, 1.0) for f in ladder))
    top_harness = Row("cpu", "empty", 80_000, 64_000, 96_000, tuple((f * 80_000, 1.0, 1.0) for f in ladder))
    copy = Row("cuda", "copy", 40_000, 32_000, 24_000, tuple((f * 40_000, 1.0, 1.0) for f in ladder[:5]))

    lines = table([empty, cpu, top_harness, copy], 50.0)

    assert "| cuda | empty | 24,000,000/s | 240,000/s | 120,000/s | - | <=0.50 |" in lines
    assert "| cpu | sleep | 20,000/s | 24,000/s | 24,000/s | >=1.20 | both top |" in lines
    assert "| cpu | empty | 80,000/s | 64,000/s | 96,000/s | >=1.20 | >=1.50 |" in lines
    assert "| cuda | copy | 40,000/s | 32,000/s | 24,000/s | 0.60 | 0.75 |" in lines
    assert any(line.startswith("-: the bare closed loop runs faster") for line in lines)
    assert any(line.startswith(">= / <= / both top") for line in lines)


def test_achieved_rate_never_exceeds_the_offered_one_when_requests_never_complete() -> None:
    """A hung run read "offered 23/s, achieved 38/s": the window ended at the last completion,
    early, when the later requests never completed."""
    clock = VirtualClock()
    sched = arrivals.Constant(100).schedule(n=200)
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(200, 1e6)), lambda r: None, lanes=1,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    data.end_ns[3:] = -1  # the rest never completed (3 completions in 21 ms read as 143/s)
    result = make_result(sched, data)

    assert result.throughput_hz <= result.offered_hz
    assert result.throughput_hz == pytest.approx(3 / 1.99, rel=0.02)


def test_offered_rate_of_a_schedule_in_batches_counts_each_batch_once() -> None:
    """review133 F2: whole-second stamps at 150/s read "offered 157/s": ``(n - 1) / span`` counted
    the last batch in a span that ends where it starts, and a batch cut by the warm-up or the run's
    end must not count as whole.  Without ties the rate is unchanged."""
    clock = VirtualClock()
    sched = np.repeat(np.arange(20, dtype=np.int64) * 1_000_000_000, 150)
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(sched.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    assert make_result(sched, data).offered_hz == pytest.approx(150.0)
    # a warm-up that ends inside a batch leaves the first measured one cut: 148/s counted it whole
    assert make_result(sched, data, warm=200).offered_hz == pytest.approx(150.0)
    sched2 = sched[:-40]  # and a run that ends inside one
    data, _ = run_open_loop(sched2, SimulatedServer(clock, np.full(sched2.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    assert make_result(sched2, data, warm=200).offered_hz == pytest.approx(150.0)

    # review136 N1: a real burst on one stamp at the window's start, then arrivals without ties, is
    # no rounding: the window offered its n over its span
    burst = np.concatenate([np.zeros(1000, dtype=np.int64), 1_000_000 + arrivals.Poisson(1000).schedule(
        n=3000, rng=np.random.default_rng(3))])
    data, _ = run_open_loop(burst, SimulatedServer(clock, np.full(burst.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    cut = make_result(burst, data, warm=100)
    assert cut.offered_hz == pytest.approx((burst.size - 101) / ((burst[-1] - burst[100]) / 1e9))
    assert cut.throughput_hz <= cut.offered_hz * 1.01

    even = arrivals.Constant(100).schedule(n=200)
    data, _ = run_open_loop(even, SimulatedServer(clock, np.full(200, 1e3)), lambda r: None, lanes=1,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    assert make_result(even, data).offered_hz == pytest.approx(199 / ((even[-1] - even[0]) / 1e9))


def test_achieved_rate_of_a_schedule_in_batches_counts_the_batches_the_offered_rate_counts() -> None:
    """review137 N1: a no-op body on whole-second stamps at 300/s read "achieved 240.4/s (offered
    300/s)" and FAILed a promise of 270/s: the throughput counted the window's cut edge batches over
    its whole span.  It counts the batches between the first and last stamp, as the offered rate."""
    clock = VirtualClock()
    sched = np.repeat(np.arange(5, dtype=np.int64) * 1_000_000_000, 300)[:1202]
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(sched.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    cut = make_result(sched, data, warm=299)  # 1 request on the first stamp, 2 on the last
    assert cut.offered_hz == pytest.approx(300.0)
    assert cut.throughput_hz == pytest.approx(300.0, rel=1e-3)

    # a service that cannot keep up still reads below the offered rate: the window runs to the
    # last completion (5 ms a request on one lane: 200/s at most), from the share of the first
    # step the window kept (1 of its 300 arrivals)
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(sched.size, 5e6)), lambda r: None, lanes=1,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    slow = make_result(sched, data, warm=299)
    assert slow.throughput_hz < 200.0
    assert slow.throughput_hz == pytest.approx(903 / ((data.end_ns[-1] - 1e9 * 299 / 300) / 1e9))

    # review137 N2: a window of two stamps has no batch between them: each counts over a step
    two = np.repeat(np.array([0, 1_000_000_000], dtype=np.int64), 150)
    data, _ = run_open_loop(two, SimulatedServer(clock, np.full(two.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    pair = make_result(two, data)
    assert pair.offered_hz == pytest.approx(150.0)  # it read 299/s as (n - 1) / span
    assert pair.throughput_hz == pytest.approx(150.0, rel=1e-3)


def test_the_edge_batches_of_rounded_stamps_count_for_the_share_of_their_step_the_window_holds() -> None:
    """review139 F1: a trace of 1,000 arrivals on its first and last whole-second stamp and 200 on
    each between (280/s) read 242/s with the edge batches left out, and a throughput promise of its
    own rate could never PASS.  review139 F2: a lane still serving the first batch read 73.7/s for a
    service of 99/s.  Each edge batch counts for the share of its step the window holds."""
    clock = VirtualClock()
    sizes = [1000] + [200] * 18 + [1000]
    sched = np.repeat(np.arange(20, dtype=np.int64) * 1_000_000_000, sizes)
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(sched.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    whole = make_result(sched, data)
    assert whole.offered_hz == pytest.approx(280.0)
    assert whole.throughput_hz == pytest.approx(280.0, rel=1e-3)
    # the warm-up took 200 of the first 1,000: the window holds 80% of that step
    cut = make_result(sched, data, warm=200)
    assert cut.offered_hz == pytest.approx(5400 / 19.8)

    three = np.repeat(np.arange(3, dtype=np.int64) * 1_000_000_000, 150)  # one lane of 10 ms: 100/s
    data, _ = run_open_loop(three, SimulatedServer(clock, np.full(three.size, 1e7)), lambda r: None, lanes=1,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    busy = make_result(three, data)
    assert busy.offered_hz == pytest.approx(150.0)
    assert busy.throughput_hz == pytest.approx(100.0, rel=1e-3)  # it read 73.7/s


def test_a_burst_on_one_stamp_of_a_steady_trace_is_no_rounding() -> None:
    """review137 N3: 500 arrivals on the last stamp of a steady 2-ms trace tied 10% of its arrivals
    and read "rounded": the burst was left out, "offered 500/s" beside "achieved 750.6/s".  Rounding
    ties arrivals all through a trace; a burst, on one stamp."""
    steady = np.arange(4500, dtype=np.int64) * 2_000_000
    burst = np.concatenate([steady, np.full(500, steady[-1])])
    assert trace.rounding_step(burst / 1e9) is None
    assert trace.rounded(burst / 1e9) is None
    clock = VirtualClock()
    data, _ = run_open_loop(burst, SimulatedServer(clock, np.full(burst.size, 1e3)), lambda r: None, lanes=4,
                            timeout_s=60, clock=clock, sleep=clock.sleep)
    result = make_result(burst, data)
    assert result.offered_hz == pytest.approx((burst.size - 1) / ((burst[-1] - burst[0]) / 1e9))
    # review139 F3: achieved read 571.5/s beside offered 571.4/s (n and n - 1 over the span)
    assert result.throughput_hz == pytest.approx(result.offered_hz) and result.throughput_hz <= result.offered_hz
    # whole-second stamps of a Poisson stream stay rounded
    rng = np.random.default_rng(7)
    poisson = np.floor(np.cumsum(rng.exponential(1 / 150, 3000)))
    assert trace.rounding_step(poisson - poisson[0]) == 1.0


def _inline(marker: dict[str, Any], body: Callable[[Request], None], waited: float = 0.0) -> SloResult:
    """``body`` through the plugin's runner on the virtual backend with bodies on the dispatcher's
    thread (as on CUDA); ``waited``: the share of the run that thread waited for a CPU (Linux
    schedstat on a real backend)."""
    from pytest_gpuslo import runner
    from pytest_gpuslo.backends import virtual

    class Inline(virtual.Backend):
        inline_body = True

        def launcher_wait(self) -> tuple[int, int] | None:
            if not hasattr(self, "t0"):
                self.t0 = self.now
            return 0, int(waited * (self.now - self.t0))

    spec = resolve(validate_marker((), marker, "t"), nodeid="t")
    schedule, warm = arrivals.plan(spec)
    return runner.execute(spec, body, backend=Inline(), schedule=schedule, warm=warm)


@pytest.mark.parametrize(("host_s", "named"), [(0.004, True), (0.0002, False)])
def test_bodies_that_keep_the_launcher_are_named_as_why_the_generator_fell_behind(host_s: float, named: bool) -> None:
    """On a backend that runs bodies on the dispatcher's thread (the CUDA backend), a body whose
    own host work (eager launches, a hidden sync) takes 4 ms of every 5 ms at 200/s makes the
    generator fall behind with its lanes free: the verdict says so and names the bodies' 4 ms.
    Bodies of 0.2 ms are not blamed (the same lag then comes from elsewhere: here a virtual
    machine stalling the dispatcher every 50th request)."""
    from pytest_gpuslo.backends import virtual

    def body(r: Request) -> None:
        virtual.work(0.001)
        virtual.host(host_s)
        if not named and r.index % 50 == 0:
            virtual.stall(0.030)  # the thread, between two bodies

    result = _inline({"p95_ms": 60, "rate_hz": 200, "requests": 2000, "streams": 2}, body)
    assert result.verdict is not None
    said = " ".join(result.verdict.reasons)

    # Bodies that keep the thread: their queue there is the code's, the lag the reason explains;
    # short bodies beside stalls of the thread: the generator fell behind.
    assert ("load generator fell behind" in said) is not named
    assert ("each body kept the launching thread 4 ms" in said) is named
    assert ("a queue that counts as the code's" in said) is named
    assert ("slo_graph" in said) is named


def _stalled_every_100th(backend: Any) -> tuple[Any, gate.SloSpec]:
    """A run whose dispatcher stalls 30 ms after every 100th body (``virtual.stall``), on
    ``backend``: which of that lateness is whose is the backend's readings' to say."""
    from pytest_gpuslo import runner
    from pytest_gpuslo.backends import virtual

    def body(r: Request) -> None:
        virtual.work(0.001)
        if r.index % 100 == 0:
            virtual.stall(0.030)

    spec = resolve(validate_marker((), {"p95_ms": 60, "rate_hz": 200, "requests": 2000, "streams": 2}, "t"),
                   nodeid="t")
    schedule, warm = arrivals.plan(spec)
    result = runner.execute(spec, body, backend=backend, schedule=schedule, warm=warm)
    assert result.lag_ms.max() > 25.0  # late either way
    return result, spec


@pytest.mark.parametrize("stall", ["gil", "gil-50ms", "gil-toggled", "cpu", "frozen"])
def test_a_dispatcher_late_for_the_gil_the_bodies_held_is_the_code_s_one_late_for_a_cpu_or_frozen_the_machine_s(
        stall: str) -> None:
    """review57: on lanes that are Python threads, a body holding the GIL for 8 ms every 100th
    request made the dispatcher late (27 ms against the base's 1.95), and gpuslo ab read it as
    the machine's: "rerun on a quiet machine".  The dispatcher reads its own wait for a CPU while
    a request is overdue; the rest of the lateness is the GIL the bodies held, the code's, as a
    server's accept loop would wait for it.  Here the same 30-ms stalls of the dispatcher are the
    GIL's (it wakes every 0.5 ms to ask for it), the machine's (all of it a wait for a CPU), or a
    frozen process's (review148 F1: a SIGSTOP neither runs, waits for a CPU nor wakes; it read as
    the code's).  "gil-50ms": a body raised the switch interval to 50 ms in the run, so the GIL
    waiter woke once (review151 F1: read as a freeze); "gil-toggled": raised to 1 s around the
    call and set back (review152 F1)."""
    import sys

    from pytest_gpuslo.backends import virtual

    class Lanes(virtual.Backend):
        waited = 0
        wakes = 0

        def sched_reader(self) -> Callable[[], tuple[int, int, int]] | None:
            return lambda: (0, self.waited, self.wakes)

        def clock(self) -> int:  # type: ignore[override]
            pending = self._stall_ns
            now = super().clock()
            if pending and not self._stall_ns:  # the stall just taken
                if stall == "cpu":
                    self.waited += pending
                elif stall == "gil":
                    self.wakes += pending // 500_000
                elif stall == "gil-50ms":
                    sys.setswitchinterval(0.05)  # the dispatch restores it
                    self.wakes += 1
                elif stall == "gil-toggled":
                    back = sys.getswitchinterval()
                    sys.setswitchinterval(1.0)
                    sys.setswitchinterval(back)
                    self.wakes += 1
            return now

    result, spec = _stalled_every_100th(Lanes())
    assert type(sys.setswitchinterval).__name__ == "builtin_function_or_method"  # unwrapped after the run
    late = gate.lateness(spec, result.measurements())
    if not stall.startswith("gil"):
        assert result.start_delay_ms.max() > 20.0 and "the load generator " in late
    else:  # the dispatcher's own precision (0.2 ms) at most
        assert result.start_delay_ms.max() <= 0.2 and "the load generator fell behind" not in late


def test_stalls_beside_bodies_that_keep_the_launcher_say_which_lag_is_whose() -> None:
    """The session-11 independent check: beside bodies that keep 80% of the launching thread, a
    stall of the thread every 50th request printed "schedule lag p99 177 ms (it delayed completions
    by 158 ms)", the second figure the stall's alone, and the save refusal blamed the dispatcher's
    precision, not the bodies' host time.  Now the figures say which is which, and the refusal
    names the bodies' cost too."""
    from pytest_gpuslo import gate
    from pytest_gpuslo.backends import virtual

    def body(r: Request) -> None:
        virtual.work(0.001)
        virtual.host(0.004)
        if r.index % 50 == 0:
            virtual.stall(0.030)

    result = _inline({"p95_ms": 200, "rate_hz": 200, "requests": 3000, "streams": 2}, body)
    assert result.verdict is not None
    said = " ".join(result.verdict.reasons)
    refusal = gate.save_refusal(result.verdict, 0, 0)

    assert {"generator_late", "bodies_hold"} <= set(result.verdict.conditions)
    assert "beyond the bodies' own queue on the launching thread, its lateness delayed completions by" in said
    assert "with that queue), more than 10 ms" in said
    assert "each body kept the launching thread 4 ms" in said
    assert "by more than the bodies' own host time on the launching thread explains" in refusal
    assert "slo_graph" in refusal and "hidden sync" in refusal


def test_only_a_body_running_for_timeout_s_at_the_give_up_is_a_hang() -> None:
    """The independent check's D1: every request still in service when the run gave up was called
    hung ('never returned'), so a backlog that busy neighbours built FAILed as a hang.  A hang is
    a body that has itself been running for timeout_s."""
    now = [10_000_000_000]
    rec = Recorder(3, lambda: now[0])
    rec.hang_after_ns = 2_000_000_000
    rec.start_ns[:] = [now[0] - 5_000_000_000, now[0] - 500_000_000, -1]
    for index in range(3):
        rec.record_stuck(index, index, "stack")

    assert [index for index, _, _ in rec.stuck] == [0, 2]  # 2 never started: its lane's body is the hang


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_the_code_s_own_child_processes_are_not_neighbours() -> None:
    """The independent check's D3: a body's own process pool read as 'other processes kept 2.0 of
    2 CPUs busy'.  The CPU seconds counted as ours include live descendants: a child that spins
    while this process sleeps adds (nearly) its CPU time to ours, however busy the machine is."""
    import subprocess
    import sys

    from pytest_gpuslo.backends.cpu import _own_cpu_seconds

    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        before = _own_cpu_seconds()
        stat = Path(f"/proc/{child.pid}/stat")
        start = _ticks(stat)
        deadline = time.monotonic() + 30
        while _ticks(stat) - start < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        spent = _ticks(stat) - start
        counted = _own_cpu_seconds() - before
    finally:
        child.kill()
        child.wait()

    assert spent >= 0.3
    assert counted >= spent - 0.05


def _ticks(stat: Path) -> float:
    import os

    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_burst_of_neighbours_is_seen_in_its_window_not_averaged_away() -> None:
    """The first independent check's D4: 8 busy loops for 0.7 s of every 5.7 s read 0.25 CPUs over
    the run (under the 0.5-CPU threshold), and the FAIL they caused stood.  The busiest window of
    at least LOAD_WINDOW_S counts; samples closer than that are merged; the code's own live
    children are taken off every window."""
    from pytest_gpuslo.backends.cpu import LOAD_WINDOW_S, peak_other_load

    # (machine busy s, own s, wall s): we use 0.5 CPU throughout; others 0.1, then 1.4 for one window.
    t, busy, own, samples = 0.0, 0.0, 0.0, []
    for others in [0.1] * 5 + [1.4] + [0.1] * 5:
        samples.append((busy, own, t))
        busy, own, t = busy + (others + 0.5) * LOAD_WINDOW_S, own + 0.5 * LOAD_WINDOW_S, t + LOAD_WINDOW_S
    samples.append((busy, own, t))
    mean = ((busy - own) / t)

    assert mean < 0.5
    assert peak_other_load(samples) == pytest.approx(1.4)
    assert peak_other_load(samples, descendants_cpus=0.3) == pytest.approx(1.1)
    halves = sorted(samples + [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2)
                               for a, b in zip(samples, samples[1:])], key=lambda x: x[2])
    assert peak_other_load(halves) == pytest.approx(1.4)  # quarter-windows merged back into halves
    assert peak_other_load(samples[:1]) is None


def test_the_neighbours_load_is_never_read_above_the_machine_s_cpus() -> None:
    """review189 F6: "other processes kept up to 2.3 of 2 CPUs busy": a window's tick counts can
    overshoot; no more than the machine has is said."""
    import os

    from pytest_gpuslo.backends import cpu

    n = os.cpu_count() or 1
    backend = cpu.Backend()
    # (machine busy s, own s, wall s): others at 1.2 x the machine over the run, 1.4 x in a window
    backend._cpu_start, backend._cpu_end = (0.0, 0.0, 0.0), (1.2 * n * 2.0, 0.0, 2.0)  # type: ignore[attr-defined]
    backend._load_samples = [(0.0, 0.0, 0.0), (1.4 * n * 1.0, 0.0, 1.0), (1.2 * n * 2.0, 0.0, 2.0)]  # type: ignore[attr-defined]
    tel = backend.telemetry()
    assert tel["other_cpu_load"] == n and tel["other_cpu_load_mean"] == n and tel["other_cpu_load_peak"] == n


@pytest.mark.parametrize(("host_s", "stall_every", "expected"), [
    (0.006, 0, "FAIL"),  # 6 ms bodies at 200/s: 120% of the launching thread, the code's own queue
    (0.001, 25, "INCONCLUSIVE"),  # 1 ms bodies, the thread stalled 40 ms after every 25th: the machine's
])
def test_a_fail_built_by_the_bodies_own_host_time_stands(host_s: float, stall_every: int, expected: str) -> None:
    """The session-10 second check's N3: on a backend that runs bodies on the dispatcher's thread,
    bodies whose own host time cannot keep up with the offered rate made a p95 of 1755 ms against
    a 40 ms budget INCONCLUSIVE ("the load generator fell behind"), and the test passed: the FAIL
    had to hold from the late dispatch, which takes the launcher's queue off.  That queue is the
    code's cost; only the lateness beyond the bodies' own host time is the generator's.  A stall
    of the thread with short bodies still holds the FAIL back."""
    from pytest_gpuslo.backends import virtual

    def body(r: Request) -> None:
        virtual.work(0.002)
        virtual.host(host_s)
        if stall_every and r.index % stall_every == 0:
            virtual.stall(0.040)  # the thread, between two bodies

    result = _inline({"p95_ms": 20, "rate_hz": 200, "requests": 2000, "streams": 2, "throughput_hz": 190}, body)
    assert result.verdict is not None
    budget, throughput = result.verdict.checks

    assert budget.outcome == expected
    assert ("load generator fell behind" in budget.reason) is (expected == "INCONCLUSIVE")
    said = " ".join(result.verdict.reasons)
    assert ("each body kept the launching thread 6 ms" in said) is (
        expected == "FAIL"), said
    assert throughput.outcome == ("FAIL" if expected == "FAIL" else "PASS")


def test_a_virtual_service_never_rounds_to_a_zero_latency() -> None:
    """The session-10 first check's F4: an exponential service drew a value under half a
    nanosecond, its latency was stored as 0.0 ms, and every baseline comparison of that run said
    'non-positive latencies' (INCONCLUSIVE, exit 0).  Virtual time counts at least 1 ns a request."""
    from pytest_gpuslo import runner
    from pytest_gpuslo.backends import virtual

    spec = resolve(validate_marker((), {"p95_ms": 20, "rate_hz": 10, "requests": 200}, "t"), nodeid="t")
    schedule, warm = arrivals.plan(spec)

    def body(r: Request) -> None:
        virtual.work(1e-12 if r.index % 2 else 0.001)

    result = runner.execute(spec, body, backend=virtual.Backend(), schedule=schedule, warm=warm)

    assert float(np.min(result.latency_ms)) > 0.0


@pytest.mark.parametrize(("host_s", "busy_outcome"), [(0.0045, "INCONCLUSIVE"), (0.006, "FAIL")])
def test_a_preempted_launching_thread_holds_the_bodies_fail_back(host_s: float, busy_outcome: str) -> None:
    """The bodies' measured host time is their own only where the thread was not preempted: 4.5 ms
    bodies at 200/s (90% of the thread) FAIL on a thread that never waited for a CPU, and are
    INCONCLUSIVE, naming the wait, on one that waited 5% of the run (Linux schedstat on a real
    backend; declared here in virtual time).  Bodies of 6 ms take 120% of the thread, more than
    all of it even less the 5% wait: an overload of their own, FAIL either way (holding it back
    made the issue's own case pass on busy hosts: the session-11 second check)."""
    from pytest_gpuslo.backends import virtual

    def body(r: Request) -> None:
        virtual.work(0.002)
        virtual.host(host_s)

    marker = {"p95_ms": 20, "rate_hz": 200, "requests": 2000, "streams": 2}
    quiet, busy = _inline(marker, body), _inline(marker, body, waited=0.05)
    assert quiet.verdict is not None and busy.verdict is not None
    said = " ".join(c.reason for c in busy.verdict.checks)

    assert quiet.telemetry["launcher_wait_share"] == 0.0 and quiet.verdict.outcome == "FAIL"
    # 5% of the dispatch's wall time, counted over the schedule's span (longer where the bodies overload)
    assert 0.05 <= busy.telemetry["launcher_wait_share"] <= 0.05 * 1.3
    assert busy.verdict.outcome == busy_outcome, busy.verdict.reasons
    if busy_outcome == "INCONCLUSIVE":
        assert "waited for a CPU 5.0% of the run" in said
    else:
        assert "more than all of it even less the" in said and "it waited for a CPU" in said
    assert gate.save_refusal(busy.verdict, 0, 0).startswith("the launching thread was preempted")


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux /proc")
def test_the_cpu_backend_reports_the_hypervisor_s_steal_over_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steal time (other machines on this VM's CPUs) is read at the run's start and end and kept
    as CPUs on average, beside the others' load it is part of."""
    from pytest_gpuslo.backends import cpu

    reads = iter([100.0, 100.0 + 0.6 * 0.5])  # 0.3 CPU-seconds stolen over the run
    monkeypatch.setattr(cpu, "steal_seconds", lambda: next(reads))
    backend = CpuBackend()
    rec = Recorder(1, time.perf_counter_ns)
    backend.open(1, lambda r: None, rec)
    time.sleep(0.6)
    backend.close()

    tel = backend.telemetry()
    assert 0.1 <= tel["steal_cpus"] <= 0.5  # 0.3 s over a run of at least 0.6 s


@pytest.mark.parametrize(("mode", "said"), [
    ("end_before_start", "ended before it started"),
    ("before_schedule", "ended before its scheduled arrival"),
    ("negative", "start_ns is -5 (negative; -1 means not set)"),
    ("future", "ended in the future"),
    ("no_start", "has an end but no start"),
    ("start_before_dispatch", "started before it was sent"),
])
def test_a_backend_that_records_impossible_times_is_named_not_the_code(mode: str, said: str) -> None:
    """A third party's backend that writes nonsense (the independent extension check's fake device):
    a p50 of -4.87 ms reached the summary, negative stamps read as 600 timeouts blaming the code,
    and an end at 2**62 ns overflowed deep in the timeline.  Now the run ends in the project's error
    naming the backend and the request."""
    from pytest_gpuslo.backends import virtual
    from pytest_gpuslo.errors import WorkloadError

    class Nonsense(virtual.Backend):
        name = "nonsense"

        def submit(self, req: Request) -> None:
            super().submit(req)
            i, rec = req.index, self.rec
            if i == 3:
                start, end = int(rec.start_ns[i]), int(rec.end_ns[i])
                rec.start_ns[i], rec.end_ns[i] = {
                    "end_before_start": (end + 5_000_000, end),
                    "before_schedule": (start - 50_000_000, start - 40_000_000),
                    "negative": (-5, end),
                    "future": (start, 2**62),
                    "no_start": (-1, end),
                    "start_before_dispatch": (start - 50_000_000, end),
                }[mode]

    sched = np.arange(10, dtype=np.int64) * 10_000_000
    with pytest.raises(WorkloadError) as e:
        run_open_loop(sched, Nonsense(), lambda r: virtual.work(0.001), lanes=2, timeout_s=1.0)
    assert "backend 'nonsense' recorded impossible times: request 3" in str(e.value) and said in str(e.value)


def test_a_backend_within_the_clock_slack_is_not_called_impossible() -> None:
    """A CUDA event mapped onto the host clock lands microseconds early: not nonsense."""
    from pytest_gpuslo.backends import virtual

    class Early(virtual.Backend):
        def submit(self, req: Request) -> None:
            super().submit(req)
            self.rec.end_ns[req.index] = int(self.rec.start_ns[req.index]) - 20_000  # 20 us before its start

    sched = np.arange(10, dtype=np.int64) * 10_000_000
    data, _ = run_open_loop(sched, Early(), lambda r: virtual.work(0.001), lanes=2, timeout_s=1.0)
    assert data.end_ns.size == 10


def test_queue_time_is_never_negative() -> None:
    """A GPU start mapped onto the host clock may read up to its 1 ms slack before the dispatch:
    its queue time is 0, not -0.5 ms (the session-15 note's leftover)."""
    sched = np.array([5_000_000, 10_000_000], dtype=np.int64)
    start = np.array([4_500_000, 12_000_000], dtype=np.int64)
    data = RunData(scheduled_ns=sched, dispatch_ns=sched.copy(), start_ns=start, end_ns=start + 1_000_000,
                   lane=np.zeros(2, np.int32), failed=np.zeros(2, bool), stages={}, timeout_ns=10**10)
    assert make_result(sched, data).queue_ms.tolist() == [0.0, 2.0]


def test_a_lane_that_fails_outside_the_body_ends_the_run_in_the_project_s_error() -> None:
    """A lane whose own set-up raised (a stream that could not be made) left its requests queued
    forever: the run read as every request timing out, blaming the code."""
    from pytest_gpuslo.errors import WorkloadError

    class Broken(CpuBackend):
        name = "broken"

        def _lane_setup(self, lane: int) -> None:
            raise RuntimeError("no stream for this lane")

    sched = np.arange(20, dtype=np.int64) * 1_000_000
    began = time.monotonic()
    with pytest.raises(WorkloadError, match=r"lane \d of backend 'broken' failed outside the body "
                                            r"\(RuntimeError: no stream for this lane\)"):
        run_open_loop(sched, Broken(), lambda r: None, lanes=2, timeout_s=60, prime=False)
    assert time.monotonic() - began < 30  # not the 60 s timeout: nobody waits for a dead lane


def test_a_backend_asking_for_it_gets_a_tick_every_few_ms_of_a_long_wait() -> None:
    """The CPU lanes sample where their bodies wait every 2 ms: review40 found one look per gap
    between arrivals, so at 5 requests/s most 100 ms sleeps were never looked at.  Dispatch stays
    exact on a virtual clock."""
    for every, expected in ((0, 10), (2_000_000, 10 * 97)):
        clock = VirtualClock()
        ticks: list[int] = []

        class Ticking(SimulatedServer):
            tick_every_ns = every
            seen = ticks

            def tick(self, until_ns: int) -> None:
                self.seen.append(self.clock())

        sched = np.arange(1, 11, dtype=np.int64) * 200_000_000  # 5/s
        data, _ = run_open_loop(sched, Ticking(clock, np.full(10, 1_000_000)), lambda r: None, lanes=1,
                                timeout_s=10, clock=clock, sleep=clock.sleep)
        assert bool(np.all(data.dispatch_ns == data.scheduled_ns))
        assert len(ticks) == pytest.approx(expected, rel=0.05)
        if every:
            assert max(np.diff(ticks)) <= every + 1_000_000


def test_a_body_hung_in_the_warm_up_is_a_hang_of_the_measured_requests() -> None:
    """review51: a body that hung from the first request (a lazy init deadlocked under its lock)
    counted as no hang, being in the warm-up, though every measured request timed out behind it;
    beside a busy neighbour that FAIL was held back and the test passed."""
    n, warm = 12, 4
    at = np.arange(n, dtype=np.int64) * 10_000_000
    data = RunData(scheduled_ns=at, dispatch_ns=at.copy(), start_ns=at.copy(), end_ns=at + 1_000_000,
                   lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages={}, timeout_ns=1_000_000_000,
                   stuck=((1, 0, "stack"),))
    m = make_result(at, data, warm=warm).measurements()
    assert m.hung == 1 and m.first_hung == (1, 0)
    # The hang's backlog: measured requests past timeout_s from the first hung request on, not
    # those before it (review52: two 1-s bodies left 26 late requests, then a slow last one hung).
    end, start = at + 1_000_000, at.copy()
    end[[5, 6]] = at[[5, 6]] + 2_000_000_000  # past timeout_s, before the hang
    end[9:] = -1  # never completed: the hung request and those behind it
    start[10:] = -1  # never started: a lane never came back for them
    late = RunData(scheduled_ns=at, dispatch_ns=at.copy(), start_ns=start, end_ns=end,
                   lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages={}, timeout_ns=1_000_000_000,
                   stuck=((9, 0, "stack"),))
    m = make_result(at, late, warm=warm).measurements()
    assert (m.timed_out, m.hang_backlog, m.first_hung, m.lanes_hung) == (5, 3, (9, 0), 1)
    # review53: a look runs on fresh lanes, so a hang's backlog ends with its look; requests that
    # started (a slow body on a free lane) are no hang's doing.
    two = late.extended(RunData(scheduled_ns=at, dispatch_ns=at.copy(), start_ns=at.copy(), end_ns=at - at - 1,
                                lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages={},
                                timeout_ns=1_000_000_000), shift_ns=200_000_000)
    assert two.looks_at == (0, n) and two.hang_backlog(warm) == 3 and two.lanes_hung_at_end() == 0


def test_a_lane_stuck_in_an_earlier_look_takes_nothing_of_the_next() -> None:
    """review52: sequential looks reuse one backend; a lane hung at the end of a look left its
    queued requests and stop marks in a queue the next look shared, whose fresh lane took a
    request numbered past its own run and crashed ("IndexError ... the backend's failure"), and
    a slow body's lane, when it returned, took one of the next look's requests and dropped it."""
    release = threading.Event()

    def body(req: Request) -> None:
        if req.index == 15 and not release.is_set():
            release.wait(30)

    backend = CpuBackend()
    first, _ = run_open_loop(arrivals.Constant(1000).schedule(n=20), backend, body, lanes=1, timeout_s=0.2)
    assert [index for index, _, _ in first.stuck] == [15]
    second, _ = run_open_loop(arrivals.Constant(1000).schedule(n=10), backend, body, lanes=2, timeout_s=5)
    release.set()  # the first look's lane returns now, with its own queue to drain
    third, _ = run_open_loop(arrivals.Constant(1000).schedule(n=10), backend, body, lanes=2, timeout_s=5)
    for run in (second, third):
        assert run.first_error is None and not run.stuck
        assert bool(np.all(run.end_ns >= 0)) and set(run.lane.tolist()) <= {0, 1}


def test_a_later_look_s_hang_and_first_error_are_named_at_their_place_in_the_whole_run() -> None:
    """review52: a hang in look 2 was named by its index within the look ("request 74") beside
    "the first: request 298" counted over the whole run."""
    def look(n: int, stuck: tuple[tuple[int, int, str], ...], error_at: int | None) -> RunData:
        at = np.arange(n, dtype=np.int64) * 1_000_000
        return RunData(scheduled_ns=at, dispatch_ns=at.copy(), start_ns=at.copy(), end_ns=at + 1,
                       lane=np.zeros(n, np.int32), failed=np.zeros(n, bool), stages={}, timeout_ns=10**9,
                       first_error=None if error_at is None else "boom", first_error_index=error_at, stuck=stuck)

    whole = look(200, (), None).extended(look(100, ((74, 1, "stack"),), 12), shift_ns=300_000_000)
    assert whole.stuck == ((274, 1, "stack"),) and whole.first_error_index == 212


def test_a_late_body_of_an_earlier_look_does_not_hide_the_next_look_s_hang() -> None:
    """review53: a body of look 1 that returned during look 2 marked look 2's lane idle, so look
    2's own hang was not recorded (no stuck lane, no hang named, the test passed)."""
    late, never = threading.Event(), threading.Event()
    look = [1]

    def body(req: Request) -> None:
        if look[0] == 1 and req.index == 15:
            late.wait(30)
        if look[0] == 2 and req.index == 5:
            never.wait(30)

    backend = CpuBackend()
    first, _ = run_open_loop(arrivals.Constant(1000).schedule(n=20), backend, body, lanes=1, timeout_s=0.2)
    assert [index for index, _, _ in first.stuck] == [15]
    look[0] = 2
    timer = threading.Timer(0.6, late.set)  # look 1's body returns while look 2 waits on its hang
    timer.start()
    second, _ = run_open_loop(arrivals.Constant(1000).schedule(n=10), backend, body, lanes=1, timeout_s=0.3)
    timer.join()
    never.set()
    assert [index for index, _, _ in second.stuck] == [5]


def test_lanes_all_in_slow_last_bodies_are_waited_for_before_they_count_as_stopped() -> None:
    """review54: one lane whose last request slept 2.5 s (timeout_s 0.5) was still in it at the
    give-up, counted as "every lane hung", and FAILed as a service that stopped.  With every lane
    in a body at the give-up the run waits as long again; a body that comes back is no hang, one
    that does not stays one."""
    forever = threading.Event()

    def slow_last(req: Request) -> None:
        if req.index == 9:
            time.sleep(1.8)  # past timeout_s + the grace (1.2 s), within the wait as long again

    def stuck_last(req: Request) -> None:
        if req.index == 9:
            forever.wait(30)

    slow, _ = run_open_loop(arrivals.Constant(1000).schedule(n=10), CpuBackend(), slow_last, lanes=1, timeout_s=0.2)
    stuck, _ = run_open_loop(arrivals.Constant(1000).schedule(n=10), CpuBackend(), stuck_last, lanes=1,
                             timeout_s=0.2)
    forever.set()
    assert not slow.stuck and slow.end_ns[9] > 0
    assert [index for index, _, _ in stuck.stuck] == [9]


def test_a_priming_call_that_never_returns_is_a_hang_named_in_every_report() -> None:
    """review52: a body that hung on its first, untimed call (index -1) was abandoned and the run
    passed with no word of it.  It is a hang now: no PASS beside it, and the reports show where."""
    release = threading.Event()

    def body(req: Request) -> None:
        if req.index < 0:
            release.wait(30)

    data, _ = run_open_loop(arrivals.Constant(1000).schedule(n=20), CpuBackend(), body, lanes=1, timeout_s=0.2)
    release.set()
    assert data.prime_stuck is not None and "release.wait(30)" in data.prime_stuck and not data.stuck
    m = make_result(data.scheduled_ns, data, warm=0).measurements()
    assert (m.hung, m.prime_hung, m.first_hung, m.hang_backlog) == (1, True, None, 0)
    spec = resolve({"rate_hz": 1000, "requests": 20, "timeout_s": 0.2, "p95_ms": 100}, nodeid="t::x")
    v = gate.decide(spec, m)
    assert v.outcome == "INCONCLUSIVE"
    assert any("(the priming call, the body's first and untimed one, before the run)" in r for r in v.reasons)
    quiet, _ = run_open_loop(arrivals.Constant(1000).schedule(n=20), CpuBackend(), body, lanes=1, timeout_s=0.2)
    assert quiet.prime_stuck is None  # released: it returns


def test_a_priming_call_slower_than_the_timeout_that_returns_during_the_run_is_no_hang() -> None:
    """review83 #5: a 100-ms first call at timeout_s=0.05 was "a hang ... fix the blocking call"."""
    returned = threading.Event()

    def body(req: Request) -> None:
        if req.index < 0:
            time.sleep(0.1)
            returned.set()
        elif req.index == 199:  # the run's last request waits for it: the test is not a race
            returned.wait(30)

    data, _ = run_open_loop(arrivals.Constant(1000).schedule(n=200), CpuBackend(), body, lanes=2, timeout_s=0.05)
    assert returned.is_set() and data.prime_stuck is None and not data.stuck


def test_payloads_from_a_generator_are_read_for_the_run_only_and_none_is_refused() -> None:
    """review85 #4: an endless generator was read until memory ran out; an empty list gave every
    request payload=None unseen."""
    pick = payload_picker(itertools.count(), 5)
    assert pick is not None and [pick(i) for i in range(7)] == [0, 1, 2, 3, 4, 0, 1]
    assert payload_picker(None, 5) is None and payload_picker(["a"], 5)(3) == "a"  # type: ignore[misc]
    with pytest.raises(InvalidArgument, match=r"are empty \(of type list\): every request would get payload=None"):
        payload_picker([], 5)
    with pytest.raises(InvalidArgument, match=r"are empty \(of type generator\)"):
        payload_picker((x for x in ()), 5)
    with pytest.raises(InvalidArgument, match=r"are of type int, which is no sequence, iterable or callable"):
        payload_picker(5, 5)
    # review86: one string was fed a character a request, a dict its keys
    with pytest.raises(InvalidArgument, match=r"are one str, which would be fed one character a request; give a list"):
        payload_picker("one prompt", 5)
    with pytest.raises(InvalidArgument, match=r"are one dict, which would be fed one key a request"):
        payload_picker({"a": 1}, 5)
    # review197 F8: a set's order is the process's hash seed's, so request i got another payload each run
    for unordered in ({"a", "b"}, frozenset({"a", "b"})):
        with pytest.raises(InvalidArgument, match=r"are a (frozen)?set, whose order changes from one process to the "
                                                  r"next.*give a list, e.g. sorted\(...\)"):
            payload_picker(unordered, 5)


def test_a_payload_callable_that_raises_is_named_with_its_request() -> None:
    """review95 #8: a callable slo_payloads raising KeyError read only "KeyError: 0"."""
    table = {1: "b"}
    pick = payload_picker(lambda i: table[i], 5)
    assert pick is not None and pick(1) == "b"
    with pytest.raises(InvalidArgument, match=r"the payloads callable \(the slo_payloads fixture, or payloads= of "
                                              r"slo_run\) raised KeyError: 0 for request index 0; it is called with"):
        pick(0)


def test_a_percentile_among_raised_requests_is_null_in_the_json_not_the_timeout() -> None:
    """review99 #2: 10% of requests raised and the JSON read "p90 1005.67" (interpolated toward the
    10,000-ms stand-in raised requests hold) and "p99 10000.0": latencies no request had."""
    def body(req: Request) -> None:
        if req.index % 10 == 3:
            raise ValueError("boom")

    result = _inline({"p95_ms": 50, "rate_hz": 200, "requests": 1000, "streams": 2}, body)
    summary = result.summary()
    lat = summary["latency_ms"]

    assert summary["failed"] == 100
    assert summary["latency_raised"] == ["p90", "p95", "p99", "p99.9"]
    assert lat["p50"] is not None and lat["p50"] < 50 and all(lat[k] is None for k in summary["latency_raised"])
    (check,) = summary["verdict"]["checks"]
    assert check["outcome"] == "FAIL" and check["estimate_raised"] and check["estimate_ms"] is None
    assert check["lower_ms"] is None and check["upper_ms"] is None  # both at the stand-in too
    # the same run with no request raised keeps every percentile it measured
    calm = _inline({"p95_ms": 50, "rate_hz": 200, "requests": 1000, "streams": 2}, lambda req: None).summary()
    assert "latency_raised" not in calm and None not in calm["latency_ms"].values()
    assert not calm["verdict"]["checks"][0].get("estimate_raised")


def test_a_hang_s_requests_that_never_completed_are_no_latency_in_the_json_or_the_verdict() -> None:
    """review104 F6: every lane stuck behind hung bodies, and the JSON, the table and the FAIL read
    "p95 500 ms" (the 0.5-s timeout the requests that never completed hold) with a "+208.0%"
    change beside it: a latency no request had.  They are named "timed out", as raised ones are
    "raised"; a request that completed late keeps its own latency."""
    from pytest_gpuslo.reports import terminal, view

    release = threading.Event()

    def body(req: Request) -> None:
        if req.index >= 150:
            release.wait(5)

    spec = resolve({"rate_hz": 1000, "requests": 200, "timeout_s": 0.2, "p95_ms": 100, "streams": 1},
                   nodeid="t::x")
    schedule = arrivals.Constant(1000).schedule(n=200)
    try:
        data, _ = run_open_loop(schedule, CpuBackend(), body, lanes=1, timeout_s=0.2)
    finally:
        release.set()
    result = make_result(data.scheduled_ns, data, warm=0)
    result.spec = spec
    m = result.measurements()
    assert m.failed == 0 and m.timed_out >= 50 and gate.unfinished(m, m.latency_ms, 0.2) >= 50
    summary = result.summary()
    assert "p95" in summary["latency_raised"] and summary["latency_ms"]["p95"] is None
    assert summary["latency_ms"]["p50"] is not None and summary["latency_ms"]["p50"] < 200
    v = gate.decide(spec, m)
    (check,) = v.checks
    assert check.detail.startswith("p95=timed out") and "500" not in check.detail
    summary["verdict"] = v.as_dict()
    assert view.shown_latency(summary, "p95") == "timed out"
    said = terminal._claim_failed(summary["verdict"]["checks"][0], summary)
    assert said == f"p95 <= 100 ms broken: {summary['unfinished']} of 200 never completed (each counted as over budget)"
    # review107 F1/F2: the charts drew a 200-ms plateau where nothing returned, and "achieved" left
    # out whatever completed after timeout_s
    from pytest_gpuslo import series

    chart = series.build(result, alpha=0.01)
    assert sum(chart["unfinished"]) == gate.unfinished(m, m.latency_ms, 0.2)
    assert not any(v is not None and v >= 199.0 for k in ("p50", "p99", "max") for v in chart["latency_ms"][k])
    assert sum(chart["achieved_hz"]) > 0
    assert view.achieved(summary).startswith("achieved ")
    # review107 F13: a stopped service's quantile(0.99) read the 200-ms stand-in, and "< 500" passed
    assert result.quantile(0.99) == float("inf") and result.quantile(0.5) < 200
    for bad in ("x", None, True, 95, -0.1):  # review116: "x" read a raw TypeError
        with pytest.raises(ValueError, match=r"is a fraction between 0 and 1, e\.g\. 0\.95"):
            result.quantile(bad)  # type: ignore[arg-type]
    assert view.achieved(summary).endswith(f"({summary['unfinished']} never completed)")


def test_the_stage_holding_the_tail_is_read_at_the_budgeted_percentile() -> None:
    """review106 F7: a pre-processor stalling 50 ms on 3% of requests made a p99 FAIL, and the
    report blamed the batched model, the stage with the largest p95 (4.5 ms against the
    pre-processor's 0.01).  The stage with the most time in the slowest requests holds the tail."""
    from dataclasses import replace

    from pytest_gpuslo.reports import terminal

    n = 3000
    pre = np.where(np.arange(n) % 33 == 5, 50_000_000, 10_000)
    sched = arrivals.Constant(50).schedule(n=n)

    clock = VirtualClock()

    def body(req: Request) -> None:
        req.record_stage("pre", clock(), clock() + int(pre[req.index]))
        req.record_stage("model", clock(), clock() + 4_500_000)

    data, _ = run_open_loop(sched, SimulatedServer(clock, pre + 4_500_000), body, lanes=1, timeout_s=5,
                            clock=clock, sleep=clock.sleep)
    result = make_result(sched, data)
    result.spec = replace(result.spec, budgets_ms={0.99: 20.0})
    stages = result.summary()["stages"]
    assert stages["model"]["p95_ms"] > stages["pre"]["p95_ms"]  # what the p95 rule read
    assert terminal.tail_stage(stages) == "pre"
    assert any("stage pre" in line and "<- holds the tail" in line for line in terminal.stage_lines(stages))
    assert "max_wait_ms" not in stages["pre"]
    timed = make_result(sched, replace(data, batch_waits=(("pre", 150.0),))).summary()["stages"]
    assert timed["pre"]["max_wait_ms"] == 150.0 and "max_wait_ms" not in timed["model"]
    old = {k: {x: y for x, y in v.items() if x != "tail_ms"} for k, v in stages.items()}
    assert terminal.tail_stage(old) == "model"  # a summary from before tail_ms: as it read then
    # review106 F5: the slowest requests never completed (a hung batch): no stage holds the tail.
    none = {k: {**v, "tail_ms": 0.0} for k, v in stages.items()}
    assert terminal.tail_stage(none) == ""
    assert not any("holds the tail" in line for line in terminal.stage_lines(none))
    # a batcher's queue: its timer named (review174 F4: an adaptive batcher's 150-ms timer unnamed)
    timed = {"admission": {"n": 9, "p50_ms": 0.1, "p95_ms": 0.2},
             "model.queue": {"n": 9, "p50_ms": 69.0, "p95_ms": 140.0, "tail_ms": 147.0, "max_wait_ms": 150.0},
             "model.service": {"n": 9, "p50_ms": 2.0, "p95_ms": 2.3, "tail_ms": 2.2}}
    assert any("stage model.queue" in line and line.endswith(
        "<- holds the tail: its batcher holds a first request up to max_wait_ms=150 ms for a fuller batch")
        for line in terminal.stage_lines(timed))
    assert "(the slowest requests have no stage times: they never completed" in terminal.stage_lines(none)[-1]


def test_the_throughput_counts_completions_within_timeout_s_and_says_the_late_ones() -> None:
    """review107 F12 read a queue completing every request, many after timeout_s, as 321.4/s
    against 400/s served; counting the late ones let a throughput promise PASS with 49 of 1,200
    within timeout_s (review108 F6, F7).  A request past the timeout is one its client gave up on:
    the rate counts those within it, and the run line says how many completed later."""
    from pytest_gpuslo.reports import view

    n = 2000
    sched = arrivals.Constant(400).schedule(n=n)
    clock = VirtualClock()
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(n, 2_800_000)), lambda r: None, lanes=1,
                            timeout_s=0.3, clock=clock, sleep=clock.sleep)
    result = make_result(sched, data)
    late = int(result.timed_out.sum())
    assert late > 200 and not result.failed.any()
    assert result.throughput_hz < 0.7 * 1000 / 2.8
    said = view.achieved(result.summary())
    assert said.endswith(f"within timeout_s ({late:,} completed after timeout_s)"), said



def _slow_run() -> SloResult:
    """30-ms bodies against a 10-ms p95 on the virtual inline backend: a FAIL, unless disturbed."""
    def slow(req: Request) -> None:
        from pytest_gpuslo.backends import virtual
        virtual.work(0.03)

    return _inline({"p95_ms": 10, "rate_hz": 20, "requests": 400, "streams": 4}, slow)


def _slow_run_beside(release: threading.Event, *threads: threading.Thread) -> SloResult:
    """``_slow_run`` beside started ``threads``, which ``release`` then ends."""
    try:
        return _slow_run()
    finally:
        release.set()
        for t in threads:
            t.join(5)


def test_a_lane_an_earlier_test_abandoned_disturbs_the_next_run_and_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """review107 F10: a lane abandoned as hung kept spinning into the next test, whose unchanged
    code read REGRESSED +116.5%, and no report said why.  A lane thread from before the run that
    took CPU during it is a disturbance of it: named, and a FAIL or REGRESSED it may explain is held
    back; one blocked on an event takes nothing from the run.  The share that counts is lowered to
    a sliver: beside four busy loops the spinning ghost got under 5% of the run's wall time (the
    machine's doing, not the rule's), and the blocked one takes none at any share."""
    from pytest_gpuslo import runner

    monkeypatch.setattr(runner, "LEFTOVER_SHARE", 0.001)
    release = threading.Event()

    def spin() -> None:
        deadline = time.monotonic() + 30
        while not release.is_set() and time.monotonic() < deadline:
            pass

    blocked = threading.Thread(target=release.wait, args=(30,), name="gpuslo-lane-8", daemon=True)
    ghost = threading.Thread(target=spin, name="gpuslo-lane-7", daemon=True)
    blocked.start()
    ghost.start()
    result = _slow_run_beside(release, ghost, blocked)
    said = result.telemetry["disturbances"]
    # the spinning one took CPU from the run; the one blocked on an event took none
    assert any("1 thread an earlier test abandoned as hung (gpuslo-lane-7) still ran in this process" in d
               for d in said)
    assert result.verdict is not None and result.verdict.outcome == "INCONCLUSIVE"
    clean = _slow_run()
    assert clean.verdict is not None and clean.verdict.outcome == "FAIL"
    assert not any("abandoned" in d for d in clean.telemetry.get("disturbances", []))


def test_leftover_lanes_that_share_a_name_are_each_weighed_by_their_own_cpu() -> None:
    """Re-read of session 40: the CPU each abandoned lane used before the run was kept by thread
    name, and two tests' abandoned 'gpuslo-lane-0' compared one's CPU with the other's, so a run
    beside two idle leftovers could read as disturbed (the flaky neighbour of review107 F10's test)."""
    release, spun = threading.Event(), threading.Event()

    def spin_then_wait() -> None:
        deadline = time.thread_time() + 0.3
        while time.thread_time() < deadline:
            pass
        spun.set()
        release.wait(30)

    busy_before = threading.Thread(target=spin_then_wait, name="gpuslo-lane-0", daemon=True)
    idle = threading.Thread(target=release.wait, args=(30,), name="gpuslo-lane-0", daemon=True)
    busy_before.start()
    assert spun.wait(30)
    idle.start()
    result = _slow_run_beside(release, busy_before, idle)
    assert not any("abandoned" in d for d in result.telemetry.get("disturbances", []))
    assert result.verdict is not None and result.verdict.outcome == "FAIL"


def test_completed_hz_counts_late_completions_by_the_end_of_the_offered_time() -> None:
    """review178 F1: a server at half its capacity completed most requests after timeout_s (here
    some), so the throughput within it says nothing of its pace; ``completed_hz`` counts every completion by the
    end of the offered time, the pace the neighbours' rule weighs (``gate._beyond_neighbours``)."""
    n = 300
    sched = arrivals.Constant(100).schedule(n=n)
    clock = VirtualClock()
    data, _ = run_open_loop(sched, SimulatedServer(clock, np.full(n, 20_000_000)), lambda r: None, lanes=1,
                            timeout_s=2.5, clock=clock, sleep=clock.sleep)
    result = make_result(sched, data)
    assert int(result.timed_out.sum()) > 0  # some of them late
    assert result.completed_hz == pytest.approx(50.0, rel=0.02)  # one 20-ms lane: 50/s, late or not
    assert result.measurements().completed_hz == result.completed_hz
    # the neighbours' CPUs while the arrivals were offered, not diluted by the drain after it
    from dataclasses import replace

    start = int(data.scheduled_ns[0])
    loads = ((start, start + 1_500_000_000, 0.4), (start + 1_500_000_000, start + 3_000_000_000, 0.0),
             (start + 3_000_000_000, start + 6_000_000_000, 0.0))
    assert make_result(sched, replace(data, others_cpus=loads)).window_neighbour_cpus == pytest.approx(0.2, rel=0.01)
    assert make_result(sched, replace(data, others_cpus=loads[:1])).window_neighbour_cpus is None  # half covered
    assert result.window_neighbour_cpus is None  # none sampled
