"""The open-loop driver: dispatch a schedule against absolute deadlines, collect exact timings.

Latency is charged from each request's *scheduled* arrival, never from its dispatch, so a request
that waited for a busy lane or a late dispatcher is charged that wait (no coordinated omission).
The dispatcher records its own lateness (schedule lag) and backlog, so the gate can tell a slow
workload from a load generator that could not keep up.  Layer 3: uses a ``Backend``; no pytest.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_gpuslo import arrivals as _arrivals
from pytest_gpuslo.backends import Backend
from pytest_gpuslo.errors import WorkloadError
from pytest_gpuslo.result import RunData

Clock = Callable[[], int]
#: The dispatcher starts this long after setup, so the first deadline is not already late.
LEAD_NS = 2_000_000
#: The dispatcher lets the backend do a chore (a clock anchor) only with this much slack before the
#: next deadline.
TICK_SLACK_NS = 1_000_000
#: Extra time after the last request's timeout before a hung body is abandoned.
GRACE_S = 1.0
#: While dispatching to Python lanes the GIL switch interval is lowered to this (seconds): a lane
#: that never releases the GIL then delays the dispatcher by at most this much, not 5 ms.
DISPATCH_SWITCH_INTERVAL_S = 0.0005


class Request:
    """One request, as the body of a marked test (``slo_request``) or a handler sees it."""

    __slots__ = ("index", "scheduled_ms", "lane", "payload", "_recorder", "_stage")

    def __init__(self, index: int, scheduled_ms: float, payload: Any, recorder: "Recorder") -> None:
        #: position in the schedule (warm-up requests included), 0-based.
        self.index = index
        #: offset of the scheduled arrival from the run's start, in milliseconds.
        self.scheduled_ms = scheduled_ms
        #: the lane (worker thread or CUDA stream) that runs it; set when it starts.
        self.lane = -1
        self.payload = payload
        self._recorder = recorder
        self._stage: Callable[[Request, str], contextlib.AbstractContextManager[None]] | None = None

    def stage(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Time a named part of the request: ``with req.stage("tokenize"): ...``."""
        if self._stage is not None:
            return self._stage(self, name)
        return self._recorder.host_stage(self.index, name)

    def record_stage(self, name: str, begin_ns: int, end_ns: int) -> None:
        """Record a stage measured elsewhere (host ``perf_counter_ns`` stamps), e.g. by a batcher."""
        if self.index < 0:
            return
        begin, end = self._recorder.stage_arrays(name)
        begin[self.index], end[self.index] = begin_ns, end_ns

    def __repr__(self) -> str:
        return f"Request(index={self.index}, scheduled_ms={self.scheduled_ms:.3f}, lane={self.lane})"


class Recorder:
    """Per-request timestamps filled in by the dispatcher and the backend's lanes."""

    def __init__(self, n: int, clock: Clock = time.perf_counter_ns) -> None:
        self.n = n
        self.clock = clock
        self.dispatch_ns = np.full(n, -1, dtype=np.int64)
        self.start_ns = np.full(n, -1, dtype=np.int64)
        self.end_ns = np.full(n, -1, dtype=np.int64)
        self.lane = np.full(n, -1, dtype=np.int32)
        self.failed = np.zeros(n, dtype=bool)
        self.stages: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        self.first_error: str | None = None
        self.first_error_index: int | None = None
        self.fatal: BaseException | None = None
        #: set when waiting gave up: lanes still running must not touch the arrays meaningfully.
        self.abandoned = False
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._completed = 0
        self._submitted = 0

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
                self.first_error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                self.first_error_index = index
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) and self.fatal is None:
                self.fatal = exc

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
            while self._completed < self._submitted:
                left = (deadline_ns - self.clock()) / 1e9
                if left <= 0:
                    return
                self._done.wait(timeout=min(left, 0.25))

    @property
    def all_done(self) -> bool:
        return self._completed >= self._submitted


@dataclass(frozen=True, slots=True)
class DispatchStats:
    """How well the dispatcher kept to the schedule."""

    max_backlog: int
    switch_interval_s: float


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
    clock: Clock = time.perf_counter_ns,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int, int], None] | None = None,
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
    schedule = np.asarray(schedule_ns, dtype=np.int64)
    n = int(schedule.size)
    rec = Recorder(n, clock)
    schedule_ms = (schedule / 1e6).tolist()
    backend.open(lanes, body, rec)
    if prime:
        backend.prime(Request(-1, float("nan"), payloads(0) if payloads else None, rec), timeout_s)
    old_switch = sys.getswitchinterval()
    gc_was_enabled = gc.isenabled()
    spin_ns = backend.spin_ns
    tick = getattr(backend, "tick", None)
    t0 = 0
    dispatched = 0
    #: (index, host ns) of the request whose body the dispatcher is running, for hang detection.
    inside: list[int] = [-1, 0]
    due: list[int] = []

    def dispatch_all() -> None:
        nonlocal dispatched
        init = getattr(backend, "thread_init", None)
        if init is not None:
            init()
        stamps = [-1] * n
        submit = backend.submit
        report_every = max(1, n // 20) if progress is not None else n + 1
        try:
            for i in range(n):
                if rec.fatal is not None:
                    break
                d = due[i]
                left = d - clock()
                if tick is not None and left > TICK_SLACK_NS:
                    tick(d - TICK_SLACK_NS // 2)  # a backend's chore, only when there is slack
                    left = d - clock()
                while left > spin_ns:
                    sleep((left - spin_ns) / 1e9)
                    left = d - clock()
                if spin_ns:
                    while clock() < d:
                        pass
                now = clock()
                stamps[i] = now
                inside[1] = now  # the time first: a watcher that sees index i sees its start
                inside[0] = i
                submit(Request(i, schedule_ms[i], payloads(i + index_offset) if payloads else None, rec))
                inside[0] = -1
                dispatched = i + 1
                if dispatched % report_every == 0 and progress is not None:
                    progress(dispatched, n)
        finally:
            rec.dispatch_ns[:] = stamps

    try:
        # GC pauses are in-process stalls of the dispatcher (load-and-batching.md §4.3).
        gc.collect()
        gc.disable()
        if spin_ns == 0:
            sys.setswitchinterval(min(old_switch, DISPATCH_SWITCH_INTERVAL_S))
        t0 = clock() + LEAD_NS
        # Plain Python ints and lists in the hot loop: numpy scalar access costs ~100 ns each.
        due = (t0 + schedule).tolist()
        if getattr(backend, "inline_body", False):
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
        sys.setswitchinterval(old_switch)
        if gc_was_enabled:
            gc.enable()
        backend.close()
    if rec.fatal is not None:
        raise rec.fatal
    stamps_arr = rec.dispatch_ns[:dispatched]
    due_arr = t0 + schedule
    backlog = np.searchsorted(due_arr, stamps_arr, side="right") - np.arange(1, dispatched + 1)
    max_backlog = int(backlog.max()) if dispatched else 0
    data = RunData.from_recorder(rec, schedule, t0, timeout_s)
    return data, DispatchStats(max_backlog=max_backlog, switch_interval_s=sys.getswitchinterval())


def build_schedule(
    process: _arrivals.ArrivalProcess,
    *,
    seed: int,
    requests: int | None,
    duration_s: float | None,
    warmup_requests: int | None,
    warmup_s: float | None,
) -> tuple[npt.NDArray[np.int64], int]:
    """The full schedule (warm-up first) and how many leading requests are warm-up."""
    rng = _arrivals.make_rngs(seed)["arrivals"]
    if requests is not None:
        if warmup_s:
            warm_part = process.schedule(duration_s=warmup_s, rng=rng)
            body = int(round(warmup_s * 1e9)) + process.schedule(n=requests, rng=rng)
            return np.concatenate([warm_part, body]), int(warm_part.size)
        warm = int(warmup_requests or 0)
        return process.schedule(n=warm + requests, rng=rng), warm
    assert duration_s is not None
    if warmup_requests:
        head = process.schedule(n=warmup_requests, rng=rng)
        start = int(head[-1]) + 1 if head.size else 0
        tail = process.schedule(duration_s=duration_s, rng=rng)
        return np.concatenate([head, start + tail]), int(head.size)
    total = float(warmup_s or 0.0) + duration_s
    sched = process.schedule(duration_s=total, rng=rng)
    warm = int(np.searchsorted(sched, int(round(float(warmup_s or 0.0) * 1e9)), side="left"))
    return sched, warm


def plan(spec: Any) -> tuple[npt.NDArray[np.int64], int]:
    """The test's whole schedule (warm-up first) and its warm-up count, from its spec alone."""
    process = _arrivals.parse(spec.arrivals, rate_hz=spec.rate_hz)
    assert process is not None
    return build_schedule(process, seed=spec.seed, requests=spec.requests, duration_s=spec.duration_s,
                          warmup_requests=spec.warmup_requests, warmup_s=spec.warmup_s)


def _looks(spec: Any, schedule: npt.NDArray[np.int64], warm: int) -> list[int]:
    """End indices of the analyses: one at the end, or 25%, 50% and 100% of max_duration_s."""
    n = int(schedule.size)
    if not getattr(spec, "max_duration_s", None) or n <= warm:
        return [n]
    horizon = int(schedule[-1])
    first = int(schedule[warm]) if n > warm else 0
    ends = [int(np.searchsorted(schedule, first + f * (horizon - first), side="right")) for f in (0.25, 0.5)]
    return sorted({max(e, warm + 1) for e in ends} | {n})


def payload_picker(payloads: Any, seed: int) -> Callable[[int], Any] | None:
    """Turn the ``slo_payloads`` fixture value into ``index -> payload``.

    A sequence is cycled in order; a callable is called with the request index; ``None`` gives
    every request ``payload=None``.
    """
    if payloads is None:
        return None
    if callable(payloads):
        return payloads  # type: ignore[no-any-return]
    seq: Sequence[Any] = payloads if isinstance(payloads, Sequence) else list(payloads)
    if len(seq) == 0:
        return None
    return lambda i: seq[i % len(seq)]


__all__ = ["Request", "Recorder", "run_open_loop", "build_schedule", "plan", "payload_picker"]


def execute(
    spec: Any,
    body: Callable[[Request], Any],
    *,
    backend: Backend,
    payloads: Any = None,
    nodeid: str = "",
    policy: Any = None,
    progress: Callable[[int, int], None] | None = None,
    baseline: Any = None,
    planned: tuple[npt.NDArray[np.int64], int] | None = None,
) -> Any:
    """Build the schedule from ``spec``, run it on ``backend`` and decide: the whole path of a test.

    ``planned`` is ``plan(spec)`` when the caller already built it (to look up a baseline by its
    fingerprint).  Returns a ``SloResult`` with its ``verdict`` set by ``gate.decide``.
    """
    from pytest_gpuslo.gate import Policy, decide
    from pytest_gpuslo.result import SloResult

    schedule, warm = planned if planned is not None else plan(spec)
    pick = payload_picker(payloads, spec.seed)
    fingerprint = _arrivals.fingerprint(schedule)
    base_policy = policy or Policy()
    looks = _looks(spec, schedule, warm)
    # Sequential looks (statistics.md): alpha is split equally over them (Bonferroni, valid
    # whatever the dependence between looks); the run stops at the first decisive look.
    look_policy = replace(base_policy, alpha=base_policy.alpha / len(looks))
    data: RunData | None = None
    backlog = 0
    disturbances: list[str] = []
    telemetry: dict[str, Any] = {}
    start = 0
    result = None
    for k, end in enumerate(looks):
        segment = schedule[start:end]
        shift = int(segment[0]) if start and segment.size else 0
        part, dstats = run_open_loop(segment - shift, backend, body, lanes=spec.streams,
                                     timeout_s=spec.timeout_s, payloads=pick, progress=progress,
                                     prime=start == 0, index_offset=start)
        data = part if data is None else data.extended(part, shift)
        backlog = max(backlog, dstats.max_backlog)
        telemetry = dict(getattr(backend, "telemetry", dict)())
        disturbances += [d for d in telemetry.get("disturbances", []) if d not in disturbances]
        telemetry["disturbances"] = disturbances
        result = SloResult(
            spec=spec, data=data, warmup=warm, backend=backend.name, machine=backend.describe(),
            schedule_fingerprint=fingerprint, max_backlog=backlog, nodeid=nodeid, telemetry=telemetry,
        )
        result.verdict = decide(spec, result.measurements(), look_policy, baseline)
        if len(looks) > 1:
            result.extra["looks"] = {"done": k + 1, "planned": len(looks), "alpha_per_look": look_policy.alpha,
                                     "requests": [int(e - warm) for e in looks]}
        decisive = result.verdict.outcome != "INCONCLUSIVE" and all(
            b.outcome != "INCONCLUSIVE" for b in result.verdict.baseline)
        if decisive:
            break
        start = end
    assert result is not None
    return result
