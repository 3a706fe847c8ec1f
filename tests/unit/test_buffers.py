"""slo_pinned inside a body: a buffer per lane reused once its earlier user completed; never a
fresh allocation per request (buffers.LaneBuffers, with a recorder whose completion we control)."""

from __future__ import annotations

import numpy as np

from pytest_gpuslo.buffers import LaneBuffers
from pytest_gpuslo.recorder import Recorder, Request, set_current


def _pool() -> tuple[LaneBuffers, list[object], Recorder, set[int], list[int]]:
    made: list[object] = []

    def make(shape: object, dtype: object, like: str) -> object:
        buf = np.zeros(shape, dtype)
        made.append(buf)
        return buf

    rec = Recorder(100)
    done: set[int] = set()
    waited: list[int] = []
    rec.is_complete = lambda i: i in done
    rec.wait_complete = lambda i: (waited.append(i), done.add(i))  # type: ignore[func-returns-value]
    return LaneBuffers(make, ring=3), made, rec, done, waited


def _in_body(pool: LaneBuffers, rec: Recorder, index: int, lane: int, calls: int = 1) -> list[object]:
    req = Request(index, 0.0, None, rec)
    req._lane = lane
    set_current(req)
    try:
        return [pool.get((4,), "float32") for _ in range(calls)]
    finally:
        set_current(None)


def test_a_lane_reuses_its_buffer_once_the_earlier_request_completed() -> None:
    pool, made, rec, done, _ = _pool()
    first = _in_body(pool, rec, -1, lane=0)        # priming: the ring's first entry
    again = []
    for i in (0, 2, 4):
        again += _in_body(pool, rec, i, lane=0)
        done.add(i)                                 # its copies completed before the next one

    assert len(made) == 1 and all(b is first[0] for b in again)
    assert pool.allocated_in_run == 0


def test_a_buffer_still_in_use_is_never_handed_out_the_ring_grows_then_waits() -> None:
    pool, made, rec, done, waited = _pool()
    bufs = [_in_body(pool, rec, i, lane=1)[0] for i in range(5)]  # nothing completes

    assert len({id(b) for b in bufs[:3]}) == 3          # three in flight: three buffers
    assert len(made) == 3 and pool.allocated_in_run == 3
    assert waited == [0, 1] and bufs[3] is bufs[0] and bufs[4] is bufs[1]
    assert pool.waited_in_run == 2


def test_lanes_and_calls_within_a_request_get_distinct_buffers() -> None:
    pool, made, rec, done, _ = _pool()
    a = _in_body(pool, rec, 0, lane=0, calls=2)
    b = _in_body(pool, rec, 1, lane=1, calls=2)

    assert len({id(x) for x in a + b}) == 4


def test_set_up_calls_get_buffers_of_their_own() -> None:
    pool, made, rec, done, _ = _pool()
    x, y = pool.get((4,)), pool.get((4,))

    assert x is not y and pool.kept == [x, y]


def test_current_request_from_the_launcher_slot_only_on_the_launcher_thread() -> None:
    """The CUDA launcher marks its request in ``recorder.INLINE`` (a list store, cheaper than a
    thread-local): that thread sees it, any other thread (a CPU lane) sees its own or None."""
    import threading

    from pytest_gpuslo.recorder import INLINE, Recorder, Request, current_request, set_current

    req, other = Request(3, 1.0, None, Recorder(4)), Request(2, 1.0, None, Recorder(4))
    seen: list[object] = []
    try:
        INLINE[:] = [req, threading.get_ident()]
        assert current_request() is req

        def elsewhere() -> None:
            seen.append(current_request())
            set_current(other)
            seen.append(current_request())
            set_current(None)
        t = threading.Thread(target=elsewhere)
        t.start()
        t.join()
        assert seen == [None, other]
        INLINE[0] = None
        assert current_request() is None
    finally:
        INLINE[:] = [None, None]
