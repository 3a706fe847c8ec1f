"""The open-loop driver: dispatch a schedule against absolute deadlines, collect exact timings.

Latency is charged from each request's *scheduled* arrival, never from its dispatch, so a request
that waited for a busy lane or a late dispatcher is charged that wait (no coordinated omission).
The dispatcher records its own lateness (schedule lag) and backlog, so the gate can tell a slow
workload from a load generator that could not keep up.  Layer 3: uses a ``Backend``; no pytest,
no decisions (``runner`` runs a test's looks and asks the gate).
"""

from __future__ import annotations

import gc
import itertools
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.backends import Backend
from pytest_gpuslo.errors import InvalidArgument, WorkloadError
from pytest_gpuslo.recorder import Clock, Recorder, Request, RunData
from pytest_gpuslo.timeline import FROZEN_WAKE_NS, frozen_ns

#: The dispatcher starts this long after setup, so the first deadline is not already late.
LEAD_NS = 2_000_000
#: The dispatcher lets the backend do a chore (a clock anchor) only with this much slack before the
#: next deadline.
TICK_SLACK_NS = 1_000_000
#: Extra time after the last request's timeout before a hung body is abandoned.
GRACE_S = 1.0
#: Requests are built before the clock starts, up to this many (about 100 bytes each; a longer run
#: builds the rest as it goes): building one costs 0.4 us of the launcher's 1-2 us of Python a
#: request (benchmarks/launch_overhead.py).
PREBUILT_MAX = 262_144
#: A dispatch later than this after its deadline reads the dispatcher's wait for a CPU (a read is
#: about 1 us); one this close is on time.
LATE_READ_NS = 20_000
#: While dispatching to Python lanes the GIL switch interval is lowered to this (seconds): a lane
#: that never releases the GIL then delays the dispatcher by at most this much, not 5 ms.
DISPATCH_SWITCH_INTERVAL_S = 0.0005


#: How often a run in progress is reported (host ns), at a moment with this much slack before the
#: next deadline, so that reporting never makes the dispatcher late.
PROGRESS_EVERY_NS = 1_000_000_000
PROGRESS_SLACK_NS = 2_000_000
#: Requests the running figures of a progress report are computed over (the most recent ones).
PROGRESS_WINDOW = 4096


class _SwitchWatch:
    """The most any code set the GIL switch interval to while a run dispatches: a body that raises
    it around a blocking call that holds the GIL (``sys.setswitchinterval(1.0)``, then back) keeps
    the dispatcher's GIL wait from waking meanwhile, which read as a frozen process (review152
    F1).  ``sys.setswitchinterval`` is wrapped for the run only (the C API is not seen)."""

    def __init__(self) -> None:
        self.most = 0.0
        self._real: Callable[[float], None] | None = None

    def install(self) -> None:
        real = self._real = sys.setswitchinterval

        def watched(interval: float, /) -> None:
            real(interval)
            self.most = max(self.most, float(interval))

        sys.setswitchinterval = watched

    def remove(self) -> None:
        if self._real is not None:
            sys.setswitchinterval = self._real
            self._real = None


@dataclass(frozen=True, slots=True)
class Progress:
    """A run in progress: requests dispatched, and the recent schedule lag and latency."""

    done: int
    total: int
    #: schedule lag p99 and latency p95 of the most recent requests (ms; None before any).
    lag_p99_ms: float | None
    p95_ms: float | None
    #: Only on the first report, before the run starts: the whole schedule's span and its
    #: longest gap between arrivals (seconds).
    span_s: float | None = None
    longest_gap_s: float | None = None


@dataclass(frozen=True, slots=True)
class DispatchStats:
    """How well the dispatcher kept to the schedule."""

    max_backlog: int
    switch_interval_s: float
    #: on a backend whose bodies run on the dispatcher's thread: how long that thread waited for a
    #: CPU while it dispatched (ns; None: not known), and over how long (ns).
    launcher_waited_ns: int | None = None
    launcher_wall_ns: int = 0


def _dispatch_watched(dispatch_all: Callable[[], None], inside: list[int], rec: Recorder,
                      timeout_s: float, clock: Clock) -> None:
    """Run the dispatch loop on its own thread and give up on a body that blocks it.

    Backends that run the body on the dispatcher itself (CUDA: the body only enqueues work) would
    otherwise hang the whole test session on a body that never returns (a lock, a blocking read,
    an endless Python loop).  The watcher sleeps on an event, so it costs the dispatcher nothing
    until the run ends or one body has held it for ``timeout_s``.
    """
    done = threading.Event()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            dispatch_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=target, name="gpuslo-dispatch", daemon=True)
    worker.start()
    try:
        while not done.wait(timeout=max(0.05, timeout_s / 2)):
            index = inside[0]
            since = inside[1]
            if index >= 0 and inside[0] == index and clock() - since > timeout_s * 1e9:
                frame = sys._current_frames().get(worker.ident or -1)
                where = "".join(traceback.format_stack(frame)[-4:]) if frame is not None else "?"
                rec.fatal = WorkloadError(
                    f"request {index}'s body has blocked the launching thread for more than "
                    f"{timeout_s:g} s (timeout_s), so no later request could be issued. On the "
                    f"CUDA backend the body must only enqueue GPU work; a host-side wait (a lock, "
                    f"a blocking read, a sync on a kernel that never ends) hangs it. The thread "
                    f"is left behind. It was here:\n{where}")
                return
    except BaseException as exc:
        rec.fatal = exc  # Ctrl-C: the dispatcher stops at its next request
        raise
    if failure:
        raise failure[0]


def run_open_loop(
    schedule_ns: npt.NDArray[np.int64],
    backend: Backend,
    body: Callable[[Request], Any],
    *,
    lanes: int,
    timeout_s: float,
    payloads: Callable[[int], Any] | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], None] | None = None,
    progress: Callable[[Progress], None] | None = None,
    prime: bool = True,
    index_offset: int = 0,
) -> tuple[RunData, DispatchStats]:
    """Run ``body`` once per scheduled arrival on ``backend`` and return the raw timings.

    The dispatcher waits for each absolute deadline ``t0 + schedule_ns[i]`` and hands the request
    to the backend without blocking.  When it is late it dispatches at once and keeps the scheduled
    stamp as the latency origin.  Requests still running ``timeout_s`` after their scheduled time
    (plus a grace period after the last one) are abandoned and counted as timed out, so a hung body
    cannot hang the test run.

    With ``prime`` the backend first calls the body once per lane, untimed, before the clock
    starts (request index -1), so compilation, imports and memory pools are not charged to the
    schedule.
    """
    clock = clock or backend.clock
    sleep = sleep or backend.sleep
    schedule = np.asarray(schedule_ns, dtype=np.int64)
    n = int(schedule.size)
    rec = Recorder(n, clock)
    rec.hang_after_ns = int(timeout_s * 1e9)
    schedule_ms = (schedule / 1e6).tolist()
    backend.open(lanes, body, rec)
    if prime:
        backend.prime(Request(-1, float("nan"), payloads(0) if payloads else None, rec), timeout_s)
    old_switch = sys.getswitchinterval()
    watch = _SwitchWatch()
    gc_was_enabled = gc.isenabled()
    spin_ns = backend.spin_ns
    tick = getattr(backend, "tick", None)
    tick_every = int(getattr(backend, "tick_every_ns", 0) or 0) if tick is not None else 0
    t0 = 0
    dispatched = 0
    #: (index, host ns) of the request whose body the dispatcher is running, for hang detection.
    inside: list[int] = [-1, 0]
    #: the requests, built now rather than in the hot loop (``None`` once dispatched).
    built: list[Any] = [Request(i, schedule_ms[i], None, rec) for i in range(min(n, PREBUILT_MAX))]
    due: list[int] = []

    #: the dispatcher thread's (ran, waited) ns and wall clock at its start and end.
    waits: list[tuple[tuple[int, int] | None, int]] = []
    inline = bool(getattr(backend, "inline_body", False))
    read_wait = getattr(backend, "launcher_wait", None) if inline else None

    def dispatch_all() -> None:
        nonlocal dispatched
        init = getattr(backend, "thread_init", None)
        if init is not None:
            init()
        if read_wait is not None:
            waits.append((read_wait(), clock()))
        # Lanes that are Python threads: the dispatcher's wait for a CPU while each request was
        # overdue (``RunData.dispatch_runq_ns``), and how long it was frozen in the span each late
        # dispatch's reading closes (``dispatch_frozen_ns``), from readings before each wait for a
        # deadline and at each late dispatch; the rest of a lateness is the GIL the bodies held.
        runq = None if inline else backend.sched_reader()
        cpu_waits = [-1] * n if runq is not None else None
        frozen = [0] * n if runq is not None else None
        #: (clock, (ran, waited, wakes), deadline slept to) readings, the oldest the latest at or
        #: before the next deadline.
        refs: deque[tuple[int, tuple[int, int, int], int]] = deque([(clock(), runq(), 0)] if runq is not None else [])
        # A GIL waiter wakes every switch interval, which a body may raise (review151 F1: a library
        # setting 50 ms made 30-ms GIL holds read as a frozen dispatcher), or raise and set back
        # (review152 F1): the credit is the most any code set in the run (``_SwitchWatch``), or
        # its value now where set through the C API.
        switch_s = sys.getswitchinterval
        stamps = [-1] * n
        # Where bodies run on this thread, when each gave it back: its own host time, measured
        # (one clock read a request), not inferred from the gaps between dispatches.
        returned: list[int] | None = [-1] * n if inline else None
        submit = backend.submit
        nb = len(built)
        next_report = (due[0] + PROGRESS_EVERY_NS) if progress is not None and n else None
        try:
            for i in range(n):
                if rec.fatal is not None:
                    break
                d = due[i]
                now = clock()
                if now < d:  # early: wait for the deadline (a late request reads the clock once)
                    if runq is not None:  # every later deadline is after this reading
                        refs.clear()
                        refs.append((now, runq(), d))
                    left = d - now
                    if tick is not None and left > TICK_SLACK_NS:
                        tick(d - TICK_SLACK_NS // 2)  # a backend's chore, only when there is slack
                        left = d - clock()
                    while left > spin_ns:
                        if tick_every and left - spin_ns > tick_every + TICK_SLACK_NS:
                            sleep(tick_every / 1e9)  # and again every tick_every_ns of a long wait
                            tick(d - TICK_SLACK_NS // 2)  # type: ignore[misc]  # tick_every: tick is set
                        else:
                            sleep((left - spin_ns) / 1e9)
                        left = d - clock()
                    now = clock()
                    while now < d and spin_ns:
                        now = clock()
                if cpu_waits is not None and frozen is not None and runq is not None:
                    if now - d > LATE_READ_NS:
                        while len(refs) > 1 and refs[1][0] <= d:
                            refs.popleft()
                        r = runq()
                        at, last, slept_to = refs[-1]
                        if r[2] >= 0 and last[2] >= 0:
                            frozen[i] = frozen_ns(now - at, slept_to - at, r[0] - last[0], r[1] - last[1],
                                                  r[2] - last[2], max(FROZEN_WAKE_NS,
                                                                      int(4e9 * max(switch_s(), watch.most))))
                        ref = refs[0][1][1] if refs and refs[0][0] <= d else -1
                        cpu_waits[i] = r[1] - ref if r[1] >= 0 and ref >= 0 else -1
                        refs.append((now, r, now))
                    else:
                        cpu_waits[i] = 0
                stamps[i] = now
                inside[1] = now  # the time first: a watcher that sees index i sees its start
                inside[0] = i
                if i < nb:
                    req = built[i]
                    built[i] = None  # its payload is not kept alive for the rest of the run
                else:
                    req = Request(i, schedule_ms[i], None, rec)
                if payloads:
                    req.payload = payloads(i + index_offset)
                submit(req)
                if returned is not None:
                    returned[i] = clock()
                inside[0] = -1
                dispatched = i + 1
                if next_report is not None and now >= next_report and (
                        i + 1 == n or due[i + 1] - clock() > PROGRESS_SLACK_NS
                        or now >= next_report + PROGRESS_EVERY_NS):
                    assert progress is not None
                    progress(_progress(rec, stamps, due, dispatched, n))
                    next_report = clock() + PROGRESS_EVERY_NS
        finally:
            rec.dispatch_ns[:] = stamps
            if cpu_waits is not None:
                rec.dispatch_runq_ns = np.asarray(cpu_waits, dtype=np.int64)
            if frozen is not None:
                rec.dispatch_frozen_ns = np.asarray(frozen, dtype=np.int64)
            if returned is not None:
                rec.returned_ns[:] = returned
            if read_wait is not None:
                waits.append((read_wait(), clock()))

    try:
        # GC pauses are in-process stalls of the dispatcher (load-and-batching.md §4.3).
        gc.collect()
        gc.disable()
        if spin_ns == 0:
            sys.setswitchinterval(min(old_switch, DISPATCH_SWITCH_INTERVAL_S))
        watch.install()
        t0 = clock() + LEAD_NS
        # Plain Python ints and lists in the hot loop: numpy scalar access costs ~100 ns each.
        due = (t0 + schedule).tolist()
        if inline:
            _dispatch_watched(dispatch_all, inside, rec, timeout_s, clock)
        else:
            dispatch_all()
        rec.set_submitted(dispatched)
        if inside[0] < 0:  # else the dispatcher is stuck in a body: nothing more to wait for
            last_due = due[-1] if n else clock()
            backend.wait(last_due + int((timeout_s + GRACE_S) * 1e9))
            if not rec.all_done:
                rec.abandoned = True
    finally:
        watch.remove()
        sys.setswitchinterval(old_switch)
        if gc_was_enabled:
            gc.enable()
        backend.close()
    if rec.fatal is not None:
        raise rec.fatal
    impossible = _impossible_times(rec, t0 + schedule, clock, int((timeout_s + GRACE_S) * 1e9))
    if impossible:
        raise WorkloadError(
            f"backend {getattr(backend, 'name', '') or type(backend).__name__!r} recorded impossible times: "
            f"{impossible}. A backend writes each request's start_ns and end_ns on the run's clock "
            f"(Recorder.clock), the end after the start and the scheduled arrival, or leaves both -1 for a "
            f"request that did not finish; fix the backend (what it owes each request: backends.Backend.submit).")
    stamps_arr = rec.dispatch_ns[:dispatched]
    due_arr = t0 + schedule
    backlog = np.searchsorted(due_arr, stamps_arr, side="right") - np.arange(1, dispatched + 1)
    max_backlog = int(backlog.max()) if dispatched else 0
    data = RunData.from_recorder(rec, schedule, t0, timeout_s)
    (w0, c0), (w1, c1) = waits if len(waits) == 2 else ((None, 0), (None, 0))
    waited = w1[1] - w0[1] if w0 is not None and w1 is not None else None
    return data, DispatchStats(max_backlog=max_backlog, switch_interval_s=sys.getswitchinterval(),
                               launcher_waited_ns=waited, launcher_wall_ns=c1 - c0)


#: Clock slack of the checks in ``_impossible_times``: a CUDA event mapped onto the host clock can
#: land microseconds early; a millisecond is beyond any such error and far below a real latency.
STAMP_SLACK_NS = 1_000_000


def _impossible_times(rec: Recorder, due: npt.NDArray[np.int64], clock: Callable[[], int], later_ns: int) -> str:
    """What no real request can do, in words ('' when none did): a negative stamp other than
    -1 (not set), an end past any wait of this run (``later_ns`` from now: a simulated backend
    may finish its queue ahead of its clock), before the scheduled arrival, without a start or
    before it, or a start before the request was sent.  A backend's nonsense otherwise reached
    the reports as a p50 of -4.87 ms, or as 600 timeouts blaming the code (the independent
    extension check's fake backend)."""
    # Copies first, the clock after: a lane still finishing an abandoned request writes its end
    # after reading the clock, so every end copied here was read before ``now``.
    start, end, dispatch = rec.start_ns.copy(), rec.end_ns.copy(), rec.dispatch_ns.copy()
    now = clock()
    for name, arr in (("dispatch_ns", dispatch), ("start_ns", start), ("end_ns", end)):
        bad = np.flatnonzero(arr < -1)
        if bad.size:
            return f"request {int(bad[0])}'s {name} is {int(arr[bad[0]])} (negative; -1 means not set)"
    checks = ((end > now + later_ns, "ended in the future, past any wait of this run"),
              ((end >= 0) & (end < due - STAMP_SLACK_NS), "ended before its scheduled arrival"),
              ((end >= 0) & (start < 0), "has an end but no start"),
              ((end >= 0) & (start >= 0) & (end < start - STAMP_SLACK_NS), "ended before it started"),
              # a start before the dispatch gave negative queue times in the JSON (review36)
              ((start >= 0) & (dispatch >= 0) & (start < dispatch - STAMP_SLACK_NS), "started before it was sent"))
    for mask, what in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            i = int(bad[0])
            return (f"request {i} {what} (scheduled {int(due[i]):,} ns, start {int(start[i]):,} ns, "
                    f"end {int(end[i]):,} ns; {bad.size:,} such request(s))")
    return ""


def _progress(rec: Recorder, stamps: list[int], due: list[int], done: int, n: int) -> Progress:
    """The running figures over the last ``PROGRESS_WINDOW`` dispatched requests."""
    lo = max(0, done - PROGRESS_WINDOW)
    sent = np.asarray(stamps[lo:done], dtype=np.int64)
    scheduled = np.asarray(due[lo:done], dtype=np.int64)
    lag = (sent - scheduled) / 1e6
    end = rec.end_ns[lo:done]
    finished = end >= 0
    latency = (end[finished] - scheduled[finished]) / 1e6
    return Progress(done, n, float(np.quantile(lag, 0.99)) if lag.size else None,
                    float(np.quantile(latency, 0.95)) if latency.size else None)


def payload_picker(payloads: Any, requests: int) -> Callable[[int], Any] | None:
    """Turn the ``slo_payloads`` fixture value into ``index -> payload``.

    A sequence is cycled in order; a callable is called with the request index; ``None`` gives
    every request ``payload=None``.  Any other iterable (a generator) is read for at most the run's
    ``requests``, then cycled: an endless one was read until memory ran out (review85).  An empty
    one is an error: every request would get ``None`` unseen (a glob that matched no file).
    """
    if payloads is None:
        return None
    if callable(payloads):
        made: Callable[[int], Any] = payloads

        def pick(i: int) -> Any:
            try:
                return made(i)
            except Exception as exc:  # review95 #8: a bare "KeyError: 0" named neither the fixture nor the request
                said = str(exc) if len(str(exc)) <= 200 else f"{str(exc)[:200]}... ({len(str(exc)):,} characters)"
                raise InvalidArgument(
                    f"the payloads callable (the slo_payloads fixture, or payloads= of slo_run) raised "
                    f"{type(exc).__name__}: {said} for request index {i}; it is called with every "
                    f"index from 0, the warm-up's included: return a payload for each") from exc

        return pick
    if isinstance(payloads, (str, bytes, bytearray, Mapping)):
        # review86: one text payload fed one character a request, a dict its keys
        raise InvalidArgument(f"the payloads given (the slo_payloads fixture, or payloads= of slo_run) are one "
                              f"{type(payloads).__name__}, which would be fed one "
                              f"{'key' if isinstance(payloads, Mapping) else 'character'} a request; give a list "
                              f"of payloads ([text] for one), or a callable index -> payload")
    if isinstance(payloads, AbstractSet):
        # review197 F8: a set's order changes with each process's hash seed, so request i got another
        # payload in every run and on each side of an A/B
        raise InvalidArgument(f"the payloads given (the slo_payloads fixture, or payloads= of slo_run) are a "
                              f"{type(payloads).__name__}, whose order changes from one process to the next, so each "
                              f"run would give request i another payload; give a list, e.g. sorted(...)")
    if isinstance(payloads, Sequence):
        seq: Sequence[Any] = payloads
    else:
        try:
            seq = list(itertools.islice(payloads, max(requests, 1)))
        except TypeError:
            raise InvalidArgument(f"the payloads given (the slo_payloads fixture, or payloads= of slo_run) are of type "
                                  f"{type(payloads).__name__}, which is no sequence, iterable or callable; return "
                                  f"a list of payloads, a callable index -> payload, or None") from None
    if len(seq) == 0:
        raise InvalidArgument(f"the payloads given (the slo_payloads fixture, or payloads= of slo_run) are empty "
                              f"(of type {type(payloads).__name__}): every request would get payload=None; give at least one "
                              f"payload, or None where the body takes none")
    return lambda i: seq[i % len(seq)]
