"""What a run records: the request a body sees, the recorder its lanes stamp, the raw run data.

Layer 2 (numpy only).  The dispatcher and the backends write per-request host timestamps into a
``Recorder``; after the run they become a ``RunData`` (every array in scheduled order, times
relative to the run's start), which ``result.SloResult`` reads.  Backends import only this
module of the driver's, so data flows one way: driver/backend -> run data -> gate -> result.
"""

from __future__ import annotations

import contextlib
import operator
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo.errors import InvalidArgument, bounded, brief, printable

Clock = Callable[[], int]

#: The request whose body runs on this thread (set by the backends around each body), so helpers
#: called inside a body (``slo_pinned``) know its lane without being handed the request.
_running = threading.local()
#: The same for a backend whose bodies all run on one launcher thread (CUDA): ``[request, that
#: thread's ident]``.  Its hot path stores into the list (``INLINE[0] = req``, tens of ns), where
#: a thread-local attribute costs 0.1-0.2 us a request (benchmarks/launch_overhead.py).
INLINE: list[Any] = [None, None]
#: A waiting thread's native id -> the native id of the helper thread now serving its call (a
#: batcher's or a pool's worker, ``pytest_gpuslo.batching``): a lane waiting on a worker is
#: asleep where that worker sleeps, which the dispatcher's looks read there (review106 F14,
#: review108 F4: a pool worker asleep 50 ms read "waiting on something else", so a FAIL was
#: held back as the neighbours').  Set only while the call is served, not while it is queued: a
#: queue's length may be the neighbours' doing.
SERVED_BY: dict[int, int] = {}
_served_cpu = [0]
_served_lock = threading.Lock()


#: The least sleep a body's own sleep, or a serving worker's, must hold per time its thread woke
#: up (schedstat's count of times on a CPU, less one) for the neighbours' rule to credit it: a
#: sleep split finer is a poll (``time.sleep(0.0005)`` until a reply comes), whose wait is the
#: polled work's, which busy neighbours may slow, or a lock's back-off (review110 F1: a client
#: polling a local server every 0.5 ms FAILed beside busy loops a budget it met quiet).  A sleep
#: standing in for I/O or a device is one long wait, or a few.
POLL_SLEEP_MS = 2.0
#: A serving worker's native id -> its call's looks (``ServedCall``), while it serves: the CPU
#: backend's dispatcher looks at each such worker once a look, whatever the lanes (with 128 lanes
#: each lane is looked at every 16 ms, so a 4-ms batch was rarely seen through them).
SERVING: dict[int, "ServedCall"] = {}
_own_schedstat = threading.local()


class ServedCall:
    """The dispatcher's looks at a worker while it serves one call or batch: how often it was
    found asleep on a timer, of how many looks; and its wake-ups (``/proc`` schedstat)."""

    __slots__ = ("asleep", "looks", "slices")

    def __init__(self) -> None:
        self.asleep = 0
        self.looks = 0
        self.slices = -1

    def slept_ns(self, wall_ns: int) -> int:
        """The call's time asleep on a timer (ns) that no neighbour lengthens: its wall time in the
        share of looks that found it asleep, over the times it woke up.  A sleep in several wake-ups
        may be a poll (``while not done: sleep(0.005)``), whose count the polled work sets and busy
        neighbours stretch (review112 F4: a pool worker polling another process every 5 ms needed
        two polls beside busy loops where it needed one quiet, and its pool read over capacity):
        one wake-up's sleep is credited, none where that is under ``POLL_SLEEP_MS`` or never looked at."""
        if self.looks <= 0 or wall_ns <= 0:
            return 0
        wakes = max(self.slices - 1, 1) if self.slices >= 0 else 1
        each = wall_ns * self.asleep // self.looks // wakes
        return int(each) if each >= POLL_SLEEP_MS * 1e6 else 0


def sched(fd: int | None) -> tuple[int, int]:
    """(ns a thread has waited, runnable, for a CPU; times it was put on one) from its open
    ``schedstat`` file ``fd``; -1 where not known (``sched_all``'s last two)."""
    return sched_all(fd)[1:]


def sched_all(fd: int | None) -> tuple[int, int, int]:
    """(ns a thread ran on a CPU, ns it waited, runnable, for one, times it was put on one) from its
    open ``schedstat`` file ``fd``; -1s where not known."""
    import os

    if fd is None or fd < 0:
        return -1, -1, -1
    try:
        ran, waited, slices = os.pread(fd, 64, 0).split()[:3]
        return int(ran), int(waited), int(slices)
    except (OSError, ValueError):  # also too few fields (unpacking)
        return -1, -1, -1


def _slices() -> int:
    """How many times this thread has been put on a CPU (``/proc/thread-self/schedstat``); -1 not known."""
    import os

    fd = getattr(_own_schedstat, "fd", None)
    if fd is None:
        try:
            fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            fd = -1
        _own_schedstat.fd = fd
    return sched(fd)[1]


def serving_done() -> None:
    """A serving worker's last call: close its schedstat file (``_slices``), or each closed pool
    or batcher would keep one open."""
    import os

    fd = getattr(_own_schedstat, "fd", None)
    _own_schedstat.fd = None
    if fd is not None and fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)


@contextlib.contextmanager
def served_for(waiters: "list[int] | tuple[int, ...]") -> Iterator[ServedCall]:
    """Mark this thread as serving the calls of ``waiters`` (native thread ids) while it runs;
    the looks at it meanwhile come back in the ``ServedCall``."""
    me = threading.get_native_id()
    call = ServedCall()
    for tid in waiters:
        SERVED_BY[tid] = me
    before = _slices()
    SERVING[me] = call
    try:
        yield call
    finally:
        SERVING.pop(me, None)
        after = _slices()
        call.slices = after - before if before >= 0 and after >= 0 else -1
        for tid in waiters:
            if SERVED_BY.get(tid) == me:
                SERVED_BY.pop(tid, None)


class ServingCpu:
    """A serving worker's CPU time, counted into ``served_cpu_ns`` at each ``tick`` (after each
    call or batch): the whole thread's, its queue and wake-ups included (review106 F14: the
    workers' loops alone used 0.45 s in a run whose bodies slept 5 s, more than a sleep's
    poll may leave)."""

    def __init__(self) -> None:
        self._last = time.thread_time_ns()

    def tick(self) -> None:
        now = time.thread_time_ns()
        with _served_lock:
            _served_cpu[0] += now - self._last
        self._last = now


def served_cpu_ns() -> int:
    """The CPU time the threads that serve bodies' calls (``ServingCpu``: a batcher's or a pool's
    workers) have counted so far: the code's own work on another thread, not work that a sleep
    elsewhere may poll."""
    return _served_cpu[0]


def current_request() -> "Request | None":
    """The request whose body is running on this thread, or ``None`` outside a body."""
    req = INLINE[0]
    if req is not None and INLINE[1] == threading.get_ident():
        return req  # type: ignore[no-any-return]
    return getattr(_running, "request", None)


def set_current(request: "Request | None") -> None:
    _running.request = request


def _read_only(name: str, doc: str) -> property:
    """A field of the request read off its private slot ``_<name>`` (``operator.attrgetter``: no
    Python frame a read); setting it raises naming the field."""
    def refuse(self: "Request", value: Any) -> None:
        raise AttributeError(f"slo_request.{name} is the harness's record of this request and cannot be set "
                             f"(to {str(value)[:40]!r}): the plugin files the request's times under it; keep state "
                             f"of your own in a variable, or set slo_request.payload")

    return property(operator.attrgetter(f"_{name}"), refuse, doc=doc)


class Request:
    """One request, as the body of a marked test (``slo_request``) or a handler sees it."""

    __slots__ = ("_index", "_scheduled_ms", "_lane", "payload", "_recorder", "_stage")

    def __init__(self, index: int, scheduled_ms: float, payload: Any, recorder: "Recorder") -> None:
        self._index = index
        self._scheduled_ms = scheduled_ms
        self._lane = -1
        #: the request's input (``slo_payloads``); the body may replace it.
        self.payload = payload
        self._recorder = recorder
        self._stage: Callable[[Request, str], contextlib.AbstractContextManager[None]] | None = None

    # Read-only: the harness files each request's stamps under its index (review164 F5: a body
    # that set ``slo_request.index = -1`` read 99 of 100 requests "never completed", and one that
    # added 1 crashed the lane "outside the body").
    index = _read_only("index", "Position in the schedule (warm-up requests included), 0-based.  A test run in "
                       "several looks (``max_duration_s``) starts each look's requests at 0 again (with "
                       "``scheduled_ms``); a payload callable is given the position in the whole schedule.")
    scheduled_ms = _read_only("scheduled_ms", "Offset of the scheduled arrival from the run's start, in milliseconds.")
    lane = _read_only("lane", "The lane (worker thread or CUDA stream) that runs it; set when it starts (-1 before).")

    def stage(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Time a named part of the request: ``with req.stage("tokenize"): ...``."""
        _stage_name(name)
        if self._stage is not None:
            return self._stage(self, name)
        return self._recorder.host_stage(self.index, name)

    def record_stage(self, name: str, begin_ns: int, end_ns: int, *, workers: int | None = None,
                     batch: int = 1, slept_ns: int | None = None) -> None:
        """Record a stage measured elsewhere (host ``perf_counter_ns`` stamps), e.g. by a batcher.
        ``workers``: the stage is a pool's or a batcher's service on that many workers, each
        taking up to ``batch`` calls at a time (``Recorder.pools``), whose worker slept
        ``slept_ns`` of it on a timer (``ServedCall.slept_ns``)."""
        _check_stamps(_stage_name(name), begin_ns, end_ns, workers, batch, slept_ns)
        if self.index < 0:
            return
        if workers is not None:
            self._recorder.pools[name] = (int(workers), int(batch))
        if slept_ns is not None:
            self._recorder.stage_slept_array(name)[self.index] = int(slept_ns)
        begin, end = self._recorder.stage_arrays(name)
        begin[self.index], end[self.index] = begin_ns, end_ns

    def __repr__(self) -> str:
        return f"Request(index={self.index}, scheduled_ms={self.scheduled_ms:.3f}, lane={self.lane})"


def _stage_name(name: object) -> str:
    """A stage's name: a non-empty str of one line (review166 F11: None crashed the harness after
    the run; a newline forged a line of the stage table)."""
    if not isinstance(name, str) or not name.strip() or any(c in name for c in "\n\r\v\f\x85\u2028\u2029"):
        # (other control codes are written out where the name is stored and shown: review85)
        raise InvalidArgument(f"slo_request stage name {name!r}: a stage is named by a non-empty str of one "
                              f"line; give one such as 'tokenize'.")
    if len(name) > MAX_STAGE_NAME:  # review172 F1: 200,000 characters padded every row of the table
        raise InvalidArgument(f"slo_request stage name {name[:40]!r}... ({len(name):,} characters): a stage name is "
                              f"a label of at most {MAX_STAGE_NAME} characters; give a shorter one.")
    if name == "admission":  # review172 F2: it replaced the plugin's own row, the wait for a lane
        raise InvalidArgument("slo_request stage name 'admission': the report keeps that name for the wait for a "
                              "free lane; give your stage another name.")
    return name


#: The longest stage name: a label in a table row.
MAX_STAGE_NAME = 200


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_stamps(name: str, begin_ns: object, end_ns: object, workers: object, batch: object,
                  slept_ns: object) -> None:
    """``record_stage``'s stamps are ``perf_counter_ns`` ints, the end (-1: not ended yet) not
    before the begin, a pool of one worker or more (review166 F11: an end before its begin read
    as requests that never left the stage, 10**30 raised numpy's OverflowError)."""
    said = f"slo_request.record_stage({name!r}, {brief(begin_ns, 40)}, {brief(end_ns, 40)}"
    if not (_is_int(begin_ns) and _is_int(end_ns) and 0 <= int(begin_ns) < 2**63  # type: ignore[call-overload]
            and -1 <= int(end_ns) < 2**63):  # type: ignore[call-overload]
        raise InvalidArgument(f"{said}): the stamps are time.perf_counter_ns() ints (the end -1 while the stage "
                              f"has not ended); give those.")
    if int(end_ns) != -1 and int(end_ns) < int(begin_ns):  # type: ignore[call-overload]
        raise InvalidArgument(f"{said}): the stage ends {(int(begin_ns) - int(end_ns)) / 1e6:.3g} ms before it "  # type: ignore[call-overload]
                              f"begins; give the begin stamp first.")
    for what, value, least in (("workers", workers, 1), ("batch", batch, 1), ("slept_ns", slept_ns, 0)):
        if value is not None and not (_is_int(value) and least <= int(value) < 2**63):  # type: ignore[call-overload]
            raise InvalidArgument(f"{said}, {what}={brief(value, 40)}): {what} is an int of {least} or more.")


@dataclass(frozen=True, slots=True)
class ThreadTimes:
    """Where each request's body spent its time on its lane's thread (host lanes, Linux): ns on a
    CPU and ns runnable but waiting for one (-1: not known), and how often the dispatcher found it
    off the CPU asleep on a timer or waiting on anything else.  Busy neighbours stretch a body's
    CPU time, its wait for a CPU and a wait on local work; not a sleep (``gate._not_contention``)."""

    cpu_ns: npt.NDArray[np.int64]
    runq_ns: npt.NDArray[np.int64]
    #: CPU time the process's other threads used meanwhile: a sleep may be a poll of their work.
    others_ns: npt.NDArray[np.int64]
    asleep: npt.NDArray[np.int32]
    waiting: npt.NDArray[np.int32]
    #: of the ``asleep`` looks, those where the body waited on a helper thread that served its
    #: call and slept (``SERVED_BY``): that helper's CPU is the body's, not work its sleep polls.
    served: npt.NDArray[np.int32]
    #: how many times the lane's thread was put on a CPU during each body (schedstat; -1: not
    #: known): a sleep split over many wake-ups is a poll of work elsewhere, not a timer's wait.
    slices: npt.NDArray[np.int64]

    @classmethod
    def empty(cls, n: int) -> "ThreadTimes":
        return cls(np.full(n, -1, np.int64), np.full(n, -1, np.int64), np.full(n, -1, np.int64),
                   np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32), np.full(n, -1, np.int64))

    def _arrays(self) -> tuple[npt.NDArray[Any], ...]:
        return self.cpu_ns, self.runq_ns, self.others_ns, self.asleep, self.waiting, self.served, self.slices

    def copy(self) -> "ThreadTimes":
        return ThreadTimes(*(a.copy() for a in self._arrays()))

    def then(self, other: "ThreadTimes | None", n_other: int) -> "ThreadTimes":
        """These requests followed by ``other``'s (a later sequential look; unknown where it has none)."""
        o = other if other is not None else ThreadTimes.empty(n_other)
        return ThreadTimes(*(np.concatenate([a, b]) for a, b in zip(self._arrays(), o._arrays())))


class Recorder:
    """Per-request timestamps filled in by the dispatcher and the backend's lanes."""

    def __init__(self, n: int, clock: Clock = time.perf_counter_ns) -> None:
        self.n = n
        self.clock = clock
        self.dispatch_ns = np.full(n, -1, dtype=np.int64)
        #: on a backend whose bodies run on the dispatcher's thread: when each body returned it.
        self.returned_ns = np.full(n, -1, dtype=np.int64)
        #: on one whose lanes are Python threads: how long the dispatcher waited for a CPU while
        #: each request was overdue (ns; 0 on time, -1 unknown): ``RunData.dispatch_runq_ns``.
        self.dispatch_runq_ns: npt.NDArray[np.int64] | None = None
        #: ... and how long it was stopped in the span each late dispatch's reading closed (ns):
        #: ``RunData.dispatch_frozen_ns``.
        self.dispatch_frozen_ns: npt.NDArray[np.int64] | None = None
        #: (start ns, end ns, CPUs) other processes kept busy, window by window (host lanes).
        self.others_cpus: list[tuple[int, int, float]] | None = None
        self.start_ns = np.full(n, -1, dtype=np.int64)
        self.end_ns = np.full(n, -1, dtype=np.int64)
        self.lane = np.full(n, -1, dtype=np.int32)
        self.failed = np.zeros(n, dtype=bool)
        self.stages: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        #: stage name -> (workers, calls a worker takes at a time), for the stages that are a
        #: pool's or a batcher's service: a floor under the queue in front of its workers
        #: (``SloResult.pool_waits``).
        self.pools: dict[str, tuple[int, int]] = {}
        #: a fixed batcher's queue stage -> (max_size, max_wait_ms): its policy, which
        #: ``replay.batch_timer_floor`` replays on the schedule (``batching._Base.__call__``)
        self.timers: dict[str, tuple[int, float]] = {}
        #: every batcher's queue stage -> its max_wait_ms, adaptive or fixed: named where that queue
        #: holds the tail (review174 F4: an adaptive batcher's 150-ms timer went unnamed).
        self.batch_waits: dict[str, float] = {}
        #: stage name -> each request's serving worker's sleep (ns, -1 unknown; ``record_stage``).
        self.stage_slept: dict[str, npt.NDArray[np.int64]] = {}
        self.first_error: str | None = None
        self.first_error_index: int | None = None
        #: requests whose body had run for ``hang_after_ns`` or longer when the run gave up on
        #: them: (index, lane, stack).
        self.stuck: list[tuple[int, int, str]] = []
        #: how long a body must have been running at the give-up to count as hung (``timeout_s``;
        #: None: any).  A request that started late in a backlog and was simply still in service is
        #: not a hang: beside busy neighbours that backlog is theirs.
        self.hang_after_ns: int | None = None
        #: where the untimed priming call was stuck when the run started without it (None: it
        #: returned in time): a body that never returns from its first call is a hang too.
        self.prime_stuck: str | None = None
        self.fatal: BaseException | None = None
        #: where each body spent its time on its thread; a host-lane backend that can tell sets it
        #: (``track_threads``), None elsewhere.
        self.threads: ThreadTimes | None = None
        #: set when waiting gave up: lanes still running must not touch the arrays meaningfully.
        self.abandoned = False
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._completed = 0
        self._submitted = 0
        #: Has request i's work completed?  Host lanes stamp the end when it has; a GPU backend,
        #: whose stamps come after the run, replaces these with queries of its events.
        self.is_complete: Callable[[int], bool] = lambda i: bool(self.end_ns[i] >= 0)
        #: Block until request i's work has completed (host lanes: it already has).
        self.wait_complete: Callable[[int], None] = lambda i: None

    def track_threads(self) -> ThreadTimes:
        """Start recording where the bodies spend their time (``ThreadTimes``)."""
        if self.threads is None:
            self.threads = ThreadTimes.empty(self.n)
        return self.threads

    def stage_slept_array(self, name: str) -> npt.NDArray[np.int64]:
        arr = self.stage_slept.get(name)
        if arr is None:
            with self._lock:
                arr = self.stage_slept.setdefault(name, np.full(self.n, -1, np.int64))
        return arr

    def stage_arrays(self, name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        arrays = self.stages.get(name)
        if arrays is None:
            with self._lock:
                arrays = self.stages.setdefault(
                    name, (np.full(self.n, -1, np.int64), np.full(self.n, -1, np.int64)))
        return arrays

    @contextlib.contextmanager
    def host_stage(self, index: int, name: str) -> Iterator[None]:
        if index < 0:  # a priming call: not timed
            yield
            return
        begin, end = self.stage_arrays(name)
        begin[index] = self.clock()
        try:
            yield
        finally:
            end[index] = self.clock()

    def record_error(self, index: int, exc: BaseException) -> None:
        self.failed[index] = True
        with self._lock:
            if self.first_error is None:
                self.first_error = bounded(printable("".join(traceback.format_exception(type(exc), exc,
                                                                                         exc.__traceback__))))
                self.first_error_index = index
        if not isinstance(exc, Exception):
            # Ctrl-C, or pytest's own outcome (pytest.skip/xfail/fail in a body, review86): the
            # run ends with it, and pytest reports the test as it says, not as a request that raised
            self.fail(exc)

    def fail(self, error: BaseException) -> None:
        """End the run with ``error`` (the first one kept): the dispatcher stops at its next
        request and nobody waits for requests that can no longer complete."""
        with self._done:
            if self.fatal is None:
                self.fatal = error
            self._done.notify_all()

    def record_stuck(self, index: int, lane: int, stack: str) -> None:
        """A request whose body had not returned when the run was abandoned, and where its lane
        was; ignored unless it had been running for ``hang_after_ns``."""
        began = int(self.start_ns[index]) if 0 <= index < self.n else -1
        if self.hang_after_ns is not None and began >= 0 and self.clock() - began < self.hang_after_ns:
            return
        with self._lock:
            self.stuck.append((index, lane, stack))

    def set_submitted(self, count: int) -> None:
        with self._done:
            self._submitted = count

    def complete_one(self, count: int = 1) -> None:
        with self._done:
            self._completed += count
            if self._completed >= self._submitted:
                self._done.notify_all()

    def wait_all(self, deadline_ns: int) -> None:
        with self._done:
            while self._completed < self._submitted and self.fatal is None:
                left = (deadline_ns - self.clock()) / 1e9
                if left <= 0:
                    return
                self._done.wait(timeout=min(left, 0.25))

    @property
    def all_done(self) -> bool:
        return self._completed >= self._submitted


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Host or device stamps of one named stage; ``-1`` where a request did not enter it."""

    begin_ns: npt.NDArray[np.int64]
    end_ns: npt.NDArray[np.int64]
    #: of a pool's or a batcher's service, the worker's time asleep on a timer while serving it
    #: (``ServedCall.slept_ns``; -1 not known); None: not such a stage.
    slept_ns: npt.NDArray[np.int64] | None = None


@dataclass(frozen=True, slots=True)
class RunData:
    """Raw stamps of one run, every array indexed by schedule position (warm-up included).

    Times are nanoseconds relative to the run's start ``t0``; ``-1`` marks "never happened".
    """

    scheduled_ns: npt.NDArray[np.int64]
    dispatch_ns: npt.NDArray[np.int64]
    start_ns: npt.NDArray[np.int64]
    end_ns: npt.NDArray[np.int64]
    lane: npt.NDArray[np.int32]
    failed: npt.NDArray[np.bool_]
    stages: dict[str, StageTimes]
    timeout_ns: int
    first_error: str | None = None
    first_error_index: int | None = None
    #: the run's start on the backend's clock (``perf_counter_ns``), to place samples taken on
    #: that clock elsewhere (NVML telemetry) on the run's time axis.
    t0_ns: int = 0
    #: (index, lane, stack) of each request still running on a lane when the run gave up on it.
    stuck: tuple[tuple[int, int, str], ...] = ()
    #: on a backend whose bodies run on the dispatcher's thread, when each body gave it back
    #: (``returned_ns - dispatch_ns``: the body's own host time); None on other backends.
    returned_ns: npt.NDArray[np.int64] | None = None
    #: where each body spent its time on its lane's thread (``ThreadTimes``); None: not known.
    threads: ThreadTimes | None = None
    #: on a backend whose lanes are Python threads: how long the dispatcher waited, runnable, for a
    #: CPU between each request's deadline and its dispatch (ns; -1 unknown); None elsewhere.  The
    #: rest of its lateness it spent waiting for the GIL the bodies held (``timeline.machine_late``).
    dispatch_runq_ns: npt.NDArray[np.int64] | None = None
    #: ... and, at each dispatch more than 20 us late, how long the dispatcher was stopped in the
    #: span since its previous reading, which ended then (ns; ``timeline.frozen_ns``): neither on a
    #: CPU, nor waiting for one, nor asking for the GIL (a SIGSTOP, a paused VM): the machine's.
    #: 0 elsewhere.  ``timeline.frozen_since`` and ``frozen_service`` read it.
    dispatch_frozen_ns: npt.NDArray[np.int64] | None = None
    #: (start, end, CPUs) other processes kept busy in windows of about half a second (ns relative
    #: to the run's start); None where not measured.  A wait for a CPU where they were quiet is the
    #: code's own threads' (the GIL handed back queues the waiter behind its holder), not the machine's.
    others_cpus: tuple[tuple[int, int, float], ...] | None = None
    #: the position each sequential look starts at: a look runs on fresh lanes, so a hang's
    #: backlog ends with its look.
    looks_at: tuple[int, ...] = (0,)
    #: where the priming call was stuck, still running past ``timeout_s`` when the run started
    #: (``Recorder.prime_stuck``); None where it returned.
    prime_stuck: str | None = None
    #: (stage name, workers, calls a worker takes at a time) of each pool or batcher whose service
    #: is a stage (``Recorder.pools``).
    pools: tuple[tuple[str, int, int], ...] = ()
    #: (queue stage name, max_size, max_wait_ms) of each fixed batcher (``Recorder.timers``).
    timers: tuple[tuple[str, int, float], ...] = ()
    #: (queue stage name, max_wait_ms) of every batcher (``Recorder.batch_waits``).
    batch_waits: tuple[tuple[str, float], ...] = ()

    def hang_backlog(self, warmup: int) -> int:
        """Measured requests the hangs kept from a lane: from the first hung request of each look on,
        the hung ones and those that never started.  Not every request past timeout_s after it: a
        slow body on a free lane of 16, or one in a later look on fresh lanes, is no hang's doing
        (review53: both FAILed "by a hang")."""
        bounds = (*self.looks_at, self.lane.size)
        stuck = np.zeros(self.lane.size, dtype=bool)
        stuck[[index for index, _, _ in self.stuck if index < self.lane.size]] = True
        kept = 0
        for a, b in zip(bounds[:-1], bounds[1:]):
            first = np.flatnonzero(stuck[a:b])
            if first.size:
                lo = max(a + int(first[0]), warmup)
                behind = (self.start_ns[lo:b] < 0) | stuck[lo:b]
                kept += int((behind & ~self.failed[lo:b]).sum())
        return kept

    def lanes_hung_at_end(self) -> int:
        """How many lanes of the last look were hung when it ended: all of them is a service that
        stopped answering (review53: every lane deadlocked at 99.8% of a run PASSed)."""
        last = self.looks_at[-1]
        return len({lane for index, lane, _ in self.stuck if index >= last})

    @classmethod
    def from_recorder(cls, rec: Recorder, schedule: npt.NDArray[np.int64], t0: int,
                      timeout_s: float) -> "RunData":
        def rel(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            return np.where(a >= 0, a - t0, -1).astype(np.int64)

        stages = {name: StageTimes(rel(b), rel(e), None if name not in rec.stage_slept else rec.stage_slept[name].copy())
                  for name, (b, e) in rec.stages.items()}
        return cls(
            scheduled_ns=np.asarray(schedule, dtype=np.int64).copy(),
            dispatch_ns=rel(rec.dispatch_ns),
            start_ns=rel(rec.start_ns),
            end_ns=rel(rec.end_ns),
            lane=rec.lane.copy(),
            failed=rec.failed.copy(),
            stages=stages,
            timeout_ns=int(timeout_s * 1e9),
            first_error=rec.first_error,
            first_error_index=rec.first_error_index,
            t0_ns=int(t0),
            stuck=tuple(sorted(rec.stuck)),
            prime_stuck=rec.prime_stuck,
            pools=tuple(sorted((name, w, b) for name, (w, b) in rec.pools.items())),
            timers=tuple(sorted((name, size, wait) for name, (size, wait) in rec.timers.items())),
            batch_waits=tuple(sorted(rec.batch_waits.items())),
            returned_ns=rel(rec.returned_ns) if bool(np.any(rec.returned_ns >= 0)) else None,
            threads=rec.threads.copy() if rec.threads is not None else None,
            dispatch_runq_ns=None if rec.dispatch_runq_ns is None else rec.dispatch_runq_ns.copy(),
            dispatch_frozen_ns=None if rec.dispatch_frozen_ns is None else rec.dispatch_frozen_ns.copy(),
            others_cpus=None if rec.others_cpus is None else tuple((a - t0, b - t0, c) for a, b, c in rec.others_cpus),
        )

    def extended(self, other: "RunData", shift_ns: int) -> "RunData":
        """This run followed by ``other``, whose times (relative to its own start) move by
        ``shift_ns`` so that both share the schedule's clock (a later sequential look)."""
        def cat(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
            return np.concatenate([a, np.where(b >= 0, b + shift_ns, -1)])

        stages = {}
        for name in set(self.stages) | set(other.stages):
            mine = self.stages.get(name) or StageTimes(np.full(self.lane.size, -1, np.int64),
                                                      np.full(self.lane.size, -1, np.int64))
            theirs = other.stages.get(name) or StageTimes(np.full(other.lane.size, -1, np.int64),
                                                         np.full(other.lane.size, -1, np.int64))
            slept = None if mine.slept_ns is None and theirs.slept_ns is None else np.concatenate([
                np.full(self.lane.size, -1, np.int64) if mine.slept_ns is None else mine.slept_ns,
                np.full(other.lane.size, -1, np.int64) if theirs.slept_ns is None else theirs.slept_ns])
            stages[name] = StageTimes(cat(mine.begin_ns, theirs.begin_ns), cat(mine.end_ns, theirs.end_ns), slept)
        return RunData(
            scheduled_ns=np.concatenate([self.scheduled_ns, other.scheduled_ns + shift_ns]),
            dispatch_ns=cat(self.dispatch_ns, other.dispatch_ns),
            start_ns=cat(self.start_ns, other.start_ns),
            end_ns=cat(self.end_ns, other.end_ns),
            lane=np.concatenate([self.lane, other.lane]),
            failed=np.concatenate([self.failed, other.failed]),
            stages=stages, timeout_ns=self.timeout_ns,
            first_error=self.first_error or other.first_error,
            # the later look's request indices are its own: placed after this one's, as its
            # positions are (review52: a hang in look 2 was named "request 74" beside "request 298").
            first_error_index=self.first_error_index if self.first_error else (
                None if other.first_error_index is None else other.first_error_index + self.lane.size),
            # the later look's clock: its telemetry is the one a result keeps.
            t0_ns=other.t0_ns - shift_ns,
            stuck=self.stuck + tuple((index + self.lane.size, lane, stack) for index, lane, stack in other.stuck),
            looks_at=self.looks_at + tuple(at + self.lane.size for at in other.looks_at),
            prime_stuck=self.prime_stuck or other.prime_stuck,
            pools=tuple(sorted({p[0]: p for p in (*self.pools, *other.pools)}.values())),
            timers=tuple(sorted({t[0]: t for t in (*self.timers, *other.timers)}.values())),
            batch_waits=tuple(sorted({**dict(self.batch_waits), **dict(other.batch_waits)}.items())),
            returned_ns=(cat(self.returned_ns, other.returned_ns)
                         if self.returned_ns is not None and other.returned_ns is not None else None),
            threads=(None if self.threads is None and other.threads is None
                     else (self.threads or ThreadTimes.empty(self.lane.size)).then(other.threads, other.lane.size)),
            dispatch_runq_ns=(None if self.dispatch_runq_ns is None and other.dispatch_runq_ns is None else np.concatenate(
                [np.full(self.lane.size, -1, np.int64) if self.dispatch_runq_ns is None else self.dispatch_runq_ns,
                 np.full(other.lane.size, -1, np.int64) if other.dispatch_runq_ns is None else other.dispatch_runq_ns])),
            dispatch_frozen_ns=(None if self.dispatch_frozen_ns is None and other.dispatch_frozen_ns is None
                                else np.concatenate(
                [np.zeros(self.lane.size, np.int64) if self.dispatch_frozen_ns is None else self.dispatch_frozen_ns,
                 np.zeros(other.lane.size, np.int64) if other.dispatch_frozen_ns is None else other.dispatch_frozen_ns])),
            others_cpus=(None if self.others_cpus is None and other.others_cpus is None else (self.others_cpus or ())
                         + tuple((a + shift_ns, b + shift_ns, c) for a, b, c in other.others_cpus or ())),
        )

    @property
    def timed_out(self) -> npt.NDArray[np.bool_]:
        """Never completed, or completed later than ``timeout_s`` after the scheduled arrival."""
        late = (self.end_ns - self.scheduled_ns) > self.timeout_ns
        return (self.end_ns < 0) | late
