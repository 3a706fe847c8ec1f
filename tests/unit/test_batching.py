"""Batcher invariants (hypothesis): nothing lost or duplicated, size and wait bounds, order,
failures and shutdown."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_gpuslo.batching import AdaptiveBatcher, BatcherClosed, FixedBatcher
from pytest_gpuslo.errors import InvalidArgument

#: Tolerance on max_wait_ms: the worker wakes on a condition variable; on a loaded 2-core VM a
#: wake-up can be late by scheduler quanta (tens of ms at worst).  One second is far above that,
#: and a missing deadline costs the whole 5 s of ``result(timeout=5)``.
WAIT_TOLERANCE_S = 1.0


def echo(batch):  # type: ignore[no-untyped-def]
    return [("done", x) for x in batch]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), max_size=st.integers(1, 40), wait_ms=st.floats(0.0, 5.0),
       adaptive=st.booleans(), fixed=st.booleans(), burst=st.integers(1, 50))
def test_no_request_is_lost_or_duplicated_and_batches_keep_bounds_and_order(
        n: int, max_size: int, wait_ms: float, adaptive: bool, fixed: bool, burst: int) -> None:
    """Every request gets its own result exactly once; batches never exceed max_size; within a
    batch the submission order is kept."""
    seen: list[list[int]] = []

    def process(batch):  # type: ignore[no-untyped-def]
        seen.append(list(batch))
        return echo(batch)

    b = (FixedBatcher(process, max_size=max_size, max_wait_ms=wait_ms) if fixed else
         AdaptiveBatcher(process, max_size=max_size, max_wait_ms=wait_ms,
                         target_size=min(4, max_size), adaptive=adaptive))
    futures = []
    for i in range(n):
        futures.append(b.submit(i))
        if i % burst == 0:
            time.sleep(0.0002)
    results = [f.result(timeout=10) for f in futures]
    b.close()

    assert results == [("done", i) for i in range(n)]
    flat = [x for batch in seen for x in batch]
    assert sorted(flat) == list(range(n)) and len(flat) == n
    assert all(1 <= len(batch) <= max_size for batch in seen)
    assert all(batch == sorted(batch) for batch in seen)
    assert flat == list(range(n))  # one worker: batches leave in order too


@pytest.mark.parametrize("cls", [FixedBatcher, AdaptiveBatcher])
def test_max_wait_is_honoured(cls: type) -> None:
    """A lone request leaves after about max_wait_ms, not later (tolerance justified above)."""
    b = cls(echo, max_size=64, max_wait_ms=20.0, **({"target_size": 64, "adaptive": False} if cls is AdaptiveBatcher else {}))
    t = time.perf_counter()
    b.submit("x").result(timeout=5)
    waited = time.perf_counter() - t
    b.close()

    assert 0.018 <= waited <= 0.020 + WAIT_TOLERANCE_S
    assert b.records[0].reason == "max_wait"


def test_a_failing_batch_fails_every_request_in_it_and_the_next_batch_works() -> None:
    """The exception reaches each request of the failed batch; the batcher keeps serving."""
    calls = []

    def process(batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch))
        if "bad" in batch:
            raise ValueError("model step failed")
        return echo(batch)

    # A long max_wait: batches leave full (3), however slowly a busy machine runs this thread.
    b = FixedBatcher(process, max_size=3, max_wait_ms=60_000)
    first = [b.submit(x) for x in ("a", "bad", "c")]
    for f in first:
        with pytest.raises(ValueError, match="model step failed"):
            f.result(timeout=5)
    second = [b.submit(x) for x in ("d", "e", "f")]
    assert second[0].result(timeout=5) == ("done", "d")
    b.close()

    assert b.records[0].failed and not b.records[1].failed


def test_wrong_result_count_is_an_error_for_the_whole_batch() -> None:
    """process() must return one result per request."""
    b = FixedBatcher(lambda batch: [1], max_size=2, max_wait_ms=60_000)  # the batch leaves full
    futures = [b.submit(1), b.submit(2)]
    b.close(drain=True)

    for f in futures:
        with pytest.raises(RuntimeError, match="returned 1 results for a batch of 2"):
            f.result(timeout=5)


def test_shutdown_with_queued_requests_fails_them_or_drains_them() -> None:
    """close() never hangs: queued requests fail with BatcherClosed, or are drained on request."""
    gate, started = threading.Event(), threading.Event()

    def slow(batch):  # type: ignore[no-untyped-def]
        started.set()
        gate.wait(5)
        return echo(batch)

    b = FixedBatcher(slow, max_size=1, max_wait_ms=0)
    running = b.submit("first")
    assert started.wait(5)  # "first" is being processed (not a sleep: a busy machine may be slow)
    queued = [b.submit(i) for i in range(3)]
    threading.Timer(0.1, gate.set).start()
    b.close(drain=False)

    assert running.result(timeout=5) == ("done", "first")
    for f in queued:
        with pytest.raises(BatcherClosed):
            f.result(timeout=5)
    with pytest.raises(BatcherClosed):
        b.submit("late").result(timeout=1)

    drained = FixedBatcher(echo, max_size=8, max_wait_ms=10_000)
    futures = [drained.submit(i) for i in range(5)]
    drained.close(drain=True)
    assert [f.result(timeout=5) for f in futures] == [("done", i) for i in range(5)]


class StepClock:
    """The batcher's clock, moved by the test: arrival gaps are exact, however busy the machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_adaptive_target_follows_the_arrival_rate_under_the_ceiling() -> None:
    """Dense arrivals raise the target to the ceiling, sparse ones lower it to 1."""
    clock = StepClock()
    b = AdaptiveBatcher(echo, max_size=16, max_wait_ms=10.0, target_size=2, clock=clock)
    for i in range(400):
        clock.now += 0.0001  # 10,000/s: 100 arrive while the oldest may wait
        b.submit(i)
    dense = b.target
    for i in range(400):
        clock.now += 0.05  # 20/s: nobody else arrives within 10 ms
        b.submit(i)
    sparse = b.target
    b.close(drain=True)

    assert (dense, sparse) == (16, 1)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"max_size": 0}, "max_size=0 must be a whole number >= 1"),
     ({"max_wait_ms": -1}, "max_wait_ms=-1 must be a finite number >= 0"),
     # review106: inf killed the worker thread and nan left batches waiting: every request hung
     ({"max_wait_ms": float("inf")}, "max_wait_ms=inf must be a finite number >= 0"),
     ({"max_wait_ms": float("nan")}, "max_wait_ms=nan must be a finite number >= 0"),
     ({"target_size": 9, "max_size": 4}, "target_size=9 exceeds max_size=4"),
     ({"preferred_fill": 0}, "preferred_fill=0 must lie in (0, 1]"),
     ({"smoothing": 5}, "smoothing=5 must lie in (0, 1]")],
)
def test_bad_settings_are_refused(kwargs: dict, fragment: str) -> None:
    """Each bad setting names its value and range."""
    with pytest.raises(InvalidArgument) as info:
        AdaptiveBatcher(echo, **kwargs)

    assert fragment in str(info.value)


def test_a_small_ceiling_needs_no_target_and_a_bad_process_is_named() -> None:
    """review106: max_size=1 read "target_size=8 exceeds max_size=1", a target nobody gave; None
    as process was taken and every request raised "'NoneType' object is not callable"; a process
    returning None read "object of type 'NoneType' has no len()"."""
    b = AdaptiveBatcher(echo, max_size=1, max_wait_ms=1.0)
    assert b.target == 1 and b(5, timeout=5) == ("done", 5)
    b.close()
    with pytest.raises(InvalidArgument, match=r"process=None is not callable"):
        FixedBatcher(None)  # type: ignore[arg-type]
    nothing = FixedBatcher(lambda batch: None, max_size=1)  # type: ignore[arg-type, return-value]
    with pytest.raises(RuntimeError, match=r"process\(\) returned NoneType, not a sequence; it must return one"):
        nothing(1, timeout=5)
    nothing.close()


def test_a_hung_pool_stage_leaves_no_thread_the_interpreter_waits_for() -> None:
    """review106: a Stage.pool function that never returned kept pytest from exiting after
    "1 passed" (ThreadPoolExecutor's workers are joined at exit, and close() waited on them).
    Its threads are daemons, and close() returns in bounded time; names the report keeps for
    itself, and a plain function given as a batcher, are refused."""
    from pytest_gpuslo.batching import Stage, StagedService

    release = threading.Event()
    service = StagedService(Stage.pool("pre", lambda x: release.wait(30) and x, workers=1))
    caller = threading.Thread(target=service, args=(1,), daemon=True)
    caller.start()
    deadline = time.monotonic() + 5
    while not any(t.name == "gpuslo-pre-0" and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    began = time.monotonic()
    service.stages[0]._close()  # type: ignore[misc]
    assert time.monotonic() - began < 10
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("gpuslo-pre"))
    release.set()
    for name in ("admission", "model.queue", "pre.service"):
        with pytest.raises(InvalidArgument, match=r"is the report's own"):
            Stage.inline(name, lambda x: x)
    with pytest.raises(InvalidArgument, match=r"needs an AdaptiveBatcher or FixedBatcher, got function"):
        Stage.batched("model", lambda batch: batch)  # type: ignore[arg-type]


def test_a_call_that_never_returns_leaves_its_stage_open_where_it_is_stuck() -> None:
    """review111 F2: a hung pool or batch call recorded no stage times, so the stage table blamed
    a healthy stage.  A call's queue stage is stamped when it is queued and its service stage when
    a worker takes it, both open (end -1) until it returns and records them whole."""
    from pytest_gpuslo.batching import Stage, StagedService
    from pytest_gpuslo.recorder import Recorder, Request

    release = threading.Event()
    rec = Recorder(2)
    pool = StagedService(Stage.pool("pre", lambda x: release.wait(10) and x, workers=1))
    batcher = FixedBatcher(lambda xs: release.wait(10) and list(xs), max_size=1, max_wait_ms=0.0)
    calls = [threading.Thread(target=pool, args=(1,), kwargs={"request": Request(0, 0.0, None, rec)}),
             threading.Thread(target=batcher, args=(2,), kwargs={"request": Request(1, 0.0, None, rec), "stage": "m"})]
    try:
        for t in calls:
            t.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(f"{s}.service" in rec.stages for s in ("pre", "m")):
            time.sleep(0.01)
        for stage, i in (("pre", 0), ("m", 1)):
            (qb, qe), (sb, se) = rec.stages[f"{stage}.queue"], rec.stages[f"{stage}.service"]
            assert 0 <= qb[i] <= qe[i] == sb[i] and se[i] == -1
    finally:
        release.set()
        for t in calls:
            t.join(10)
        pool.close()
        batcher.close()
    for stage, i in (("pre", 0), ("m", 1)):
        assert rec.stages[f"{stage}.service"][1][i] >= rec.stages[f"{stage}.service"][0][i] >= 0


def test_a_fixed_batcher_leaves_its_policy_for_the_replay_and_the_replay_waits_as_it_would() -> None:
    """review173 F1: a fixed batcher's own timer wait (max_wait_ms 150 under a 60-ms budget) was
    held back beside busy neighbours; its policy is kept (``Recorder.timers``) and replayed on the
    schedule with no time spent anywhere (``replay.batch_timer_floor``)."""
    import numpy as np

    from pytest_gpuslo.recorder import Recorder, Request
    from pytest_gpuslo.replay import batch_timer_floor

    rec = Recorder(2)
    with FixedBatcher(lambda xs: list(xs), max_size=4, max_wait_ms=0.0) as fixed:
        assert fixed(1, request=Request(0, 0.0, None, rec), stage="model") == 1
    with AdaptiveBatcher(lambda xs: list(xs), max_size=4, max_wait_ms=0.0) as adaptive:
        assert adaptive(2, request=Request(1, 0.0, None, rec), stage="other") == 2
    # review174 F1: a fixed target (slo_batcher(adaptive=False, target_size=...)) is a fixed policy too
    with AdaptiveBatcher(lambda xs: list(xs), max_size=8, max_wait_ms=2.0, adaptive=False, target_size=6,
                         preferred_fill=0.5) as fixed_target:
        assert fixed_target(3, request=Request(1, 0.0, None, rec), stage="target") == 3
    # an adaptive one's target moves: not replayed; the fixed target ships at half of 6
    assert rec.timers == {"model.queue": (4, 0.0), "target.queue": (3, 2.0)}
    # every batcher's timer, adaptive too, for the words of a queue that holds the tail (review174 F4)
    assert rec.batch_waits == {"model.queue": 0.0, "other.queue": 0.0, "target.queue": 2.0}
    # full at the 3rd arrival (20 ms); the next batch's timer at 30 + 100; the one after at 200 + 100
    got = batch_timer_floor([0, 10, 20, 30, 200, 210, 5], [1, 1, 1, 1, 1, 1, 0], 3, 100.0)
    assert got.tolist() == [20.0, 10.0, 0.0, 100.0, 100.0, 90.0, 0.0]
    assert batch_timer_floor(np.array([5.0, 0.0]), [1, 1], 64, 0.0).tolist() == [0.0, 0.0]
